import { describe, expect, it } from "vitest";
import { MembershipRequests, type MembershipView } from "../../src/driver/membership-requests";
import { ServerError } from "../../src/index";

function view(inProgress: boolean, peers: string[]): MembershipView {
  return { membershipChangeInProgress: () => inProgress, peerNames: () => peers };
}

function track(requests: MembershipRequests, peer: string, add: boolean, asLeader: boolean) {
  const outcome: { done?: boolean; error?: ServerError } = {};
  requests.add({
    peer,
    add,
    deadline: 100,
    asLeader,
    resolve: () => {
      outcome.done = true;
    },
    reject: (e) => {
      outcome.error = e;
    },
  });
  return outcome;
}

describe("MembershipRequests", () => {
  it("resolves an addition once it is committed and visible", () => {
    const r = new MembershipRequests("G");
    const o = track(r, "NEWPEER1", true, true);
    r.check(view(true, ["SELFxxxx", "NEWPEER1"]), 10);
    expect(o).toEqual({});
    r.check(view(false, ["SELFxxxx", "NEWPEER1"]), 20);
    expect(o.done).toBe(true);
    expect(r.size()).toBe(0);
  });

  it("reports a leader's change that a leader change truncated as LOST", () => {
    const r = new MembershipRequests("G");
    const o = track(r, "NEWPEER1", true, true);
    r.check(view(false, ["SELFxxxx"]), 10);
    expect(o.error?.code).toBe("MEMBERSHIP");
    expect(o.error?.reason).toBe("LOST");
  });

  it("waits for a forwarded removal until its deadline", () => {
    const r = new MembershipRequests("G");
    const o = track(r, "OLDPEER1", false, false);
    r.check(view(false, ["SELFxxxx", "OLDPEER1"]), 50);
    expect(o).toEqual({});
    expect(r.nextDeadline()).toBe(100);
    r.check(view(false, ["SELFxxxx", "OLDPEER1"]), 100);
    expect(o.error?.code).toBe("TIMEOUT");
  });

  it("rejects everything on stop", () => {
    const r = new MembershipRequests("G");
    const o = track(r, "X1234567", true, true);
    r.rejectAll(new ServerError("CLOSED", "stopped"));
    expect(o.error?.code).toBe("CLOSED");
    expect(r.size()).toBe(0);
  });
});

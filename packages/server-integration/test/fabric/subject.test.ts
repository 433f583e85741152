import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  InterestSet,
  isValidPattern,
  isValidSubject,
  subjectMatches,
} from "../../src/fabric/subject";

const token = fc.stringMatching(/^[A-Za-z0-9_$-]{1,6}$/);
const subject = fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join("."));

describe("subjects", () => {
  it("accepts NRG subjects and rejects malformed ones", () => {
    expect(isValidSubject("$NRG.AE.S-R3F-abcdefgh")).toBe(true);
    expect(isValidSubject("$NRG.R.Ab12Cd34")).toBe(true);
    for (const bad of ["", ".", "a.", ".a", "a..b", "a b", "a\tb", "a.*", "a.>", ">", "*"]) {
      expect(isValidSubject(bad), bad).toBe(false);
    }
    expect(isValidSubject("a".repeat(5000))).toBe(false);
  });

  it("accepts wildcards only as whole tokens and > only last", () => {
    expect(isValidPattern("$NRG.>")).toBe(true);
    expect(isValidPattern("a.*.c")).toBe(true);
    expect(isValidPattern("*")).toBe(true);
    expect(isValidPattern("a.>.c")).toBe(false);
    expect(isValidPattern("a..b")).toBe(false);
    // A token that merely contains * is a literal, as in NATS.
    expect(isValidSubject("a*b")).toBe(true);
    expect(subjectMatches("a*b", "axb")).toBe(false);
  });

  it("matches * as one token and > as one or more", () => {
    expect(subjectMatches("a.*.c", "a.b.c")).toBe(true);
    expect(subjectMatches("a.*.c", "a.b.b.c")).toBe(false);
    expect(subjectMatches("a.*", "a")).toBe(false);
    expect(subjectMatches("a.>", "a.b")).toBe(true);
    expect(subjectMatches("a.>", "a.b.c.d")).toBe(true);
    expect(subjectMatches("a.>", "a")).toBe(false);
    expect(subjectMatches(">", "x")).toBe(true);
    expect(subjectMatches("a.b", "a.b")).toBe(true);
    expect(subjectMatches("a.b", "a.b.c")).toBe(false);
  });

  test.prop([subject])("a subject matches itself, > and its own prefix.>", (s) => {
    expect(isValidSubject(s)).toBe(true);
    expect(subjectMatches(s, s)).toBe(true);
    expect(subjectMatches(">", s)).toBe(true);
    const tokens = s.split(".");
    if (tokens.length > 1) expect(subjectMatches(`${tokens[0]}.>`, s)).toBe(true);
    const stars = tokens.map(() => "*").join(".");
    expect(subjectMatches(stars, s)).toBe(true);
  });
});

describe("InterestSet", () => {
  it("answers matches for exact and wildcard patterns and forgets deleted ones", () => {
    const set = new InterestSet();
    expect(set.add("a.b")).toBe(true);
    expect(set.add("a.b")).toBe(false);
    set.add("x.*");
    expect(set.matches("a.b")).toBe(true);
    expect(set.matches("x.y")).toBe(true);
    expect(set.matches("x.y.z")).toBe(false);
    expect(set.size).toBe(2);
    set.delete("x.*");
    expect(set.matches("x.y")).toBe(false);
    expect(set.patterns()).toEqual(["a.b"]);
  });
});

/**
 * Builders and a parser for the `$NRG.*` subjects (nats-raft-spec §3):
 *
 *   $NRG.V.<group>   vote requests          $NRG.AE.<group>  append entries
 *   $NRG.P.<group>   forwarded proposals    $NRG.RP.<group>  forwarded peer removals
 *   $NRG.R.<inbox>   replies                $NRG.CR.<inbox>  catchup streams
 */
import { CodecError } from "./errors";
import { isInbox } from "./inbox";

/** The first token of every Raft subject. */
export const SUBJECT_PREFIX = "$NRG";

/** The kinds of subject addressed to a group. */
export type GroupSubjectKind = "vote" | "appendEntry" | "proposal" | "removePeer";
/** The kinds of subject addressed to an inbox. */
export type InboxSubjectKind = "reply" | "catchup";

/** A parsed `$NRG.*` subject: a group subject or an inbox subject, told apart by `kind`. */
export type ParsedSubject =
  | { readonly kind: GroupSubjectKind; readonly group: string }
  | { readonly kind: InboxSubjectKind; readonly inbox: string };

const GROUP_TOKENS: Readonly<Record<GroupSubjectKind, string>> = {
  vote: "V",
  appendEntry: "AE",
  proposal: "P",
  removePeer: "RP",
};

const INBOX_TOKENS: Readonly<Record<InboxSubjectKind, string>> = {
  reply: "R",
  catchup: "CR",
};

const KIND_BY_TOKEN: ReadonlyMap<
  string,
  | { readonly kind: GroupSubjectKind; readonly inbox: false }
  | { readonly kind: InboxSubjectKind; readonly inbox: true }
> = new Map([
  ["V", { kind: "vote", inbox: false }],
  ["AE", { kind: "appendEntry", inbox: false }],
  ["P", { kind: "proposal", inbox: false }],
  ["RP", { kind: "removePeer", inbox: false }],
  ["R", { kind: "reply", inbox: true }],
  ["CR", { kind: "catchup", inbox: true }],
] as const);

/**
 * True when `group` can be a subject token: non-empty printable ASCII (0x21–0x7e) without `.`,
 * `*` or `>` (the NATS token separator and wildcards).
 */
export function isValidGroupToken(group: string): boolean {
  if (typeof group !== "string" || group.length === 0) return false;
  for (let i = 0; i < group.length; i++) {
    const code = group.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === 0x2e || code === 0x2a || code === 0x3e) {
      return false;
    }
  }
  return true;
}

function groupSubject(kind: GroupSubjectKind, group: string): string {
  if (!isValidGroupToken(group)) {
    throw new CodecError("BAD_SUBJECT", `invalid group name ${JSON.stringify(group)}`);
  }
  return `${SUBJECT_PREFIX}.${GROUP_TOKENS[kind]}.${group}`;
}

function inboxSubject(kind: InboxSubjectKind, inbox: string): string {
  if (!isInbox(inbox)) {
    throw new CodecError(
      "BAD_SUBJECT",
      `an inbox is 8 base-62 characters, got ${JSON.stringify(inbox)}`,
    );
  }
  return `${SUBJECT_PREFIX}.${INBOX_TOKENS[kind]}.${inbox}`;
}

/** `$NRG.V.<group>`. @throws CodecError BAD_SUBJECT for an invalid group token. */
export function voteSubject(group: string): string {
  return groupSubject("vote", group);
}

/** `$NRG.AE.<group>`. @throws CodecError BAD_SUBJECT for an invalid group token. */
export function appendEntrySubject(group: string): string {
  return groupSubject("appendEntry", group);
}

/** `$NRG.P.<group>`. @throws CodecError BAD_SUBJECT for an invalid group token. */
export function proposalSubject(group: string): string {
  return groupSubject("proposal", group);
}

/** `$NRG.RP.<group>`. @throws CodecError BAD_SUBJECT for an invalid group token. */
export function removePeerSubject(group: string): string {
  return groupSubject("removePeer", group);
}

/** `$NRG.R.<inbox>`. @throws CodecError BAD_SUBJECT unless `inbox` is 8 base-62 characters. */
export function replySubject(inbox: string): string {
  return inboxSubject("reply", inbox);
}

/** `$NRG.CR.<inbox>`. @throws CodecError BAD_SUBJECT unless `inbox` is 8 base-62 characters. */
export function catchupSubject(inbox: string): string {
  return inboxSubject("catchup", inbox);
}

/**
 * Parses a Raft subject into its kind and its group or inbox. Exactly three tokens are accepted:
 * `$NRG`, a known kind token, and a valid group token or 8-character base-62 inbox.
 *
 * @throws CodecError BAD_SUBJECT for anything else.
 */
export function parseSubject(subject: string): ParsedSubject {
  if (typeof subject !== "string") {
    throw new CodecError("BAD_SUBJECT", "a subject must be a string");
  }
  const tokens = subject.split(".");
  const kindToken = tokens[1];
  const last = tokens[2];
  if (
    tokens.length !== 3 ||
    tokens[0] !== SUBJECT_PREFIX ||
    kindToken === undefined ||
    last === undefined
  ) {
    throw new CodecError(
      "BAD_SUBJECT",
      `not a $NRG.<kind>.<token> subject: ${JSON.stringify(subject)}`,
    );
  }
  const kind = KIND_BY_TOKEN.get(kindToken);
  if (kind === undefined) {
    throw new CodecError("BAD_SUBJECT", `unknown $NRG subject kind ${JSON.stringify(kindToken)}`);
  }
  if (kind.inbox) {
    if (!isInbox(last)) {
      throw new CodecError("BAD_SUBJECT", `invalid inbox in ${JSON.stringify(subject)}`);
    }
    return { kind: kind.kind, inbox: last };
  }
  if (!isValidGroupToken(last)) {
    throw new CodecError("BAD_SUBJECT", `invalid group in ${JSON.stringify(subject)}`);
  }
  return { kind: kind.kind, group: last };
}

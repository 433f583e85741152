import { RaftError } from "@raft/codec";

/**
 * Every code a {@link ServerError} can carry. The package README has a table of which functions
 * produce which code.
 */
export type ServerErrorCode =
  /** This node is not the leader (or lost leadership before the proposal applied). */
  | "NOT_LEADER"
  /** The group or server is stopped. */
  | "CLOSED"
  /** The proposal was not applied within `limits.proposalTimeoutMs`. */
  | "TIMEOUT"
  /** Too many pending proposals, or a command larger than `limits.proposalBytesMax`. */
  | "OVERLOADED"
  /** A bad argument: node id, group name, un-encodable command. */
  | "INVALID_ARGUMENT"
  /** `initRaftNode` found no peer state: call `bootstrapRaftNode` first. */
  | "NOT_BOOTSTRAPPED"
  /** A group of that name is already registered on this server. */
  | "ALREADY_EXISTS"
  /** The WAL failed (fatal to the group); `cause` is the `WalError`. */
  | "STORAGE"
  /** The state machine threw or broke its contract (fatal to the group). */
  | "STATE_MACHINE"
  /**
   * A membership change was refused (`reason`: `IN_PROGRESS`, `UNKNOWN_PEER`, `ALREADY_MEMBER`,
   * `LAST_PEER`, `INVALID_PEER`, `NOT_ALLOWED`) or did not take effect (`LOST`).
   */
  | "MEMBERSHIP";

/** All {@link ServerErrorCode} values, for exhaustive tests and documentation. */
export const SERVER_ERROR_CODES: readonly ServerErrorCode[] = [
  "NOT_LEADER",
  "CLOSED",
  "TIMEOUT",
  "OVERLOADED",
  "INVALID_ARGUMENT",
  "NOT_BOOTSTRAPPED",
  "ALREADY_EXISTS",
  "STORAGE",
  "STATE_MACHINE",
  "MEMBERSHIP",
];

/** Options of {@link ServerError}. */
export interface ServerErrorOptions extends ErrorOptions {
  /** `NOT_LEADER`: the known leader id, `""` when none. */
  readonly leaderId?: string;
  /** `NOT_LEADER`: the known leader's server name, when known. */
  readonly leaderServerName?: string | undefined;
  /** `MEMBERSHIP`: why the change was refused. */
  readonly reason?: string;
}

/** The one error class of `@raft/server-integration`'s server part. */
export class ServerError extends RaftError {
  override readonly name: string = "ServerError";
  declare readonly code: ServerErrorCode;
  /** `NOT_LEADER`: the known leader id (`""` when none); `undefined` for other codes. */
  readonly leaderId: string | undefined;
  /** `NOT_LEADER`: the leader's server name when known. */
  readonly leaderServerName: string | undefined;
  /** `MEMBERSHIP`: the reason code; `undefined` for other codes. */
  readonly reason: string | undefined;

  /**
   * @param code - one of {@link ServerErrorCode}.
   * @param message - what went wrong.
   * @param options - `cause`, and for `NOT_LEADER` the known leader.
   */
  constructor(code: ServerErrorCode, message: string, options: ServerErrorOptions = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.leaderId = options.leaderId;
    this.leaderServerName = options.leaderServerName;
    this.reason = options.reason;
  }
}

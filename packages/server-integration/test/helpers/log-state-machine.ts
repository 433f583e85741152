import type { AppliedCommand, StateMachine } from "../../src/index";

/** A command of the test state machine: append `value` to the list. */
export interface AppendCommand {
  readonly value: number;
}

/**
 * The test state machine: an append-only list of values. `apply` returns the list length after
 * each command, so a proposer can check its result is the one its own command produced.
 */
export class ListStateMachine implements StateMachine<AppendCommand, number> {
  values: number[] = [];
  indexes: number[] = [];
  applyCalls = 0;
  /** When set, every `apply` waits for it first (a slow state machine). */
  gate: Promise<void> | undefined;

  async apply(commands: readonly AppliedCommand<AppendCommand>[]): Promise<readonly number[]> {
    this.applyCalls++;
    if (this.gate !== undefined) await this.gate;
    return commands.map((c) => {
      this.values.push(c.command.value);
      this.indexes.push(c.index);
      return this.values.length;
    });
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ values: this.values }));
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as { values: number[] };
    this.values = parsed.values;
    this.indexes = [];
  }
}

/**
 * A hand-written writer of the Prometheus text exposition format (version 0.0.4): one `# HELP`
 * and one `# TYPE` line per metric family, then its samples.
 */

/** The content type of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names and values of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a family. */
export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

/** Accumulates families and renders them. A family name may be added once only. */
export class PrometheusWriter {
  readonly #lines: string[] = [];
  readonly #names = new Set<string>();

  /**
   * Adds a family. Counters must be named `..._total`. Non-finite values render as `NaN`/`+Inf`.
   * @throws Error on an invalid or repeated name (a bug in the caller).
   */
  family(
    name: string,
    type: "gauge" | "counter",
    help: string,
    samples: readonly Sample[],
  ): PrometheusWriter {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name ${name}`);
    if (this.#names.has(name)) throw new Error(`metric ${name} added twice`);
    if (type === "counter" && !name.endsWith("_total")) {
      throw new Error(`counter ${name} must end in _total`);
    }
    this.#names.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const s of samples)
      this.#lines.push(`${name}${renderLabels(s.labels)} ${renderValue(s.value)}`);
    return this;
  }

  /** The exposition text, ending in a newline. */
  render(): string {
    return `${this.#lines.join("\n")}\n`;
  }
}

function renderLabels(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts = Object.entries(labels).map(([k, v]) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) throw new Error(`invalid label name ${k}`);
    return `${k}="${escapeLabelValue(v)}"`;
  });
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function renderValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

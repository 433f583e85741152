import { describe, expect, it } from "vitest";
import { PrometheusWriter } from "../src/http/prometheus";

describe("PrometheusWriter", () => {
  it("writes HELP and TYPE before the samples and escapes label values", () => {
    const text = new PrometheusWriter()
      .family("a_total", "counter", "Things counted.", [{ value: 3 }])
      .family("b", "gauge", "Line one\nline two.", [
        { labels: { peer: 'x"y\\z' }, value: 1.5 },
        { labels: { peer: "n\nl" }, value: Number.POSITIVE_INFINITY },
      ])
      .render();
    expect(text).toBe(
      [
        "# HELP a_total Things counted.",
        "# TYPE a_total counter",
        "a_total 3",
        "# HELP b Line one\\nline two.",
        "# TYPE b gauge",
        'b{peer="x\\"y\\\\z"} 1.5',
        'b{peer="n\\nl"} +Inf',
        "",
      ].join("\n"),
    );
  });

  it("refuses a counter without _total, a repeated family and an invalid name", () => {
    const w = new PrometheusWriter();
    expect(() => w.family("c", "counter", "h", [])).toThrow(/_total/);
    w.family("d", "gauge", "h", []);
    expect(() => w.family("d", "gauge", "h", [])).toThrow(/twice/);
    expect(() => w.family("1bad", "gauge", "h", [])).toThrow(/invalid metric name/);
  });
});

/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then one line
 * per series. Label values are escaped (backslash, double quote, newline); the only labels
 * are actor kinds, outcomes and error codes — never keys or ids, whose number is unbounded.
 */
import type { Histogram } from "./histogram.ts";

export type Labels = Readonly<Record<string, string>>;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels, extra?: string): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Builds one exposition: each family once, its samples after it. */
export class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    this.lines.push(`${name}${labelText(labels)} ${number(value)}`);
    return this;
  }

  histogram(name: string, labels: Labels, histogram: Histogram): this {
    let cumulative = 0;
    for (let i = 0; i < histogram.bounds.length; i++) {
      cumulative += histogram.counts[i]!;
      this.lines.push(`${name}_bucket${labelText(labels, `le="${number(histogram.bounds[i]!)}"`)} ${cumulative}`);
    }
    this.lines.push(`${name}_bucket${labelText(labels, 'le="+Inf"')} ${histogram.count}`);
    this.lines.push(`${name}_sum${labelText(labels)} ${number(histogram.sum)}`);
    this.lines.push(`${name}_count${labelText(labels)} ${histogram.count}`);
    return this;
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** The content type Prometheus expects for this format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

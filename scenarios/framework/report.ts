// Text and JSON reports of a chaos run.
import type { Fault, ScenarioMode } from './scenario.ts';
import type { ShrinkResult, VariantSummary } from './run-scenario.ts';

export interface VariantReport {
  readonly name: string;
  readonly verdict: string;
  readonly violations: Record<string, number>;
  /** Cases each invariant checked (summed over seeds). */
  readonly checked: Record<string, number>;
  readonly metrics: Record<string, number>;
  readonly seedsViolating?: number[];
  readonly examples: string[];
  readonly details?: Readonly<Record<string, unknown>>;
  readonly replay?: string;
  readonly shrunk?: { invariant: string; faults: Fault[]; durationUs: number; runs: number; replay: string };
}

export interface ChaosReport {
  readonly scenario: string;
  readonly mode: ScenarioMode;
  readonly seed: number;
  readonly seeds: number;
  readonly options: Record<string, number | string>;
  readonly variants: VariantReport[];
  readonly elapsedMs: number;
}

export function variantReport(summary: VariantSummary, replay: string | undefined, shrunk: ShrinkResult | undefined, shrunkReplay: string | undefined): VariantReport {
  return {
    name: summary.name,
    verdict: summary.verdict,
    violations: summary.violations,
    checked: summary.checked,
    metrics: summary.metrics,
    ...(summary.seedsViolating.length > 0 ? { seedsViolating: summary.seedsViolating.slice(0, 20) } : {}),
    examples: summary.examples,
    ...(summary.details ? { details: summary.details } : {}),
    ...(replay ? { replay } : {}),
    ...(shrunk && shrunkReplay ? { shrunk: { invariant: shrunk.invariant, faults: shrunk.faults, durationUs: shrunk.durationUs, runs: shrunk.runs, replay: shrunkReplay } } : {}),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n');
}

export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const options = Object.entries(report.options).map(([name, value]) => `${name}=${value}`).join(' ');
  lines.push(`${report.scenario}  mode=${report.mode}  seed=${report.seed}  seeds=${report.seeds}  ${options}  (${report.elapsedMs} ms)`);
  const invariantNames = Object.keys(report.variants[0]?.violations ?? {});
  lines.push('');
  lines.push(table([['variant', 'verdict', ...invariantNames], ...report.variants.map((variant) => [variant.name, variant.verdict, ...invariantNames.map((name) => String(variant.violations[name] ?? 0))])]));
  const metricNames: string[] = [];
  for (const variant of report.variants) for (const name of Object.keys(variant.metrics)) if (!metricNames.includes(name)) metricNames.push(name);
  lines.push('');
  lines.push(table([['metric', ...report.variants.map((variant) => variant.name)], ...metricNames.map((name) => [name, ...report.variants.map((variant) => String(variant.metrics[name] ?? '-'))])]));
  for (const variant of report.variants) {
    const unchecked = Object.entries(variant.checked).filter(([, count]) => count === 0).map(([name]) => name);
    if (unchecked.length > 0) lines.push(`${variant.name}: nothing to check for ${unchecked.join(', ')} (a fix with no case checked is unchecked, not holds)`);
  }
  for (const variant of report.variants) {
    const messages = variant.details?.errorMessages as Record<string, number> | undefined;
    if (!messages) continue;
    for (const [message, count] of Object.entries(messages)) lines.push(`${variant.name}: ${count} x ${message}`);
  }
  for (const variant of report.variants) {
    if (variant.examples.length === 0) continue;
    lines.push('');
    lines.push(`${variant.name} (${variant.verdict})${variant.seedsViolating ? ` on seeds ${variant.seedsViolating.join(', ')}` : ''}:`);
    for (const example of variant.examples) lines.push(`  ${example}`);
    if (variant.replay) lines.push(`  replay: ${variant.replay}`);
    if (variant.shrunk) lines.push(`  shrunk (still violates ${variant.shrunk.invariant}) to ${variant.shrunk.faults.length} fault(s) in ${Math.round(variant.shrunk.durationUs / 1e6)} s (${variant.shrunk.runs} runs): ${variant.shrunk.replay}`);
  }
  return lines.join('\n');
}

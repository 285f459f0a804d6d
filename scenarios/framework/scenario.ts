// What a chaos scenario is: a workload, a seeded fault schedule, variants (the unfixed code, the incident's
// fix, the robust fix) and invariant checkers that are pure functions over the run's history and the
// simulator's ground truth.
import type { HistoryEntry } from './history.ts';
import type { SeededRandom } from './seeded-random.ts';

export type ScenarioMode = 'sim' | 'real';
export type VariantRole = 'unfixed' | 'fix' | 'robust-fix';

export interface Fault {
  readonly kind: string;
  /** Start of the fault, microseconds after the run's start (virtual or scaled real). */
  readonly atUs: number;
  readonly durationUs: number;
  readonly target?: string;
}

export interface VariantSpec {
  readonly name: string;
  readonly role: VariantRole;
  readonly describe: string;
}

export type ScenarioOptions = Readonly<Record<string, number | string>>;

export interface RunContext {
  readonly seed: number;
  readonly variant: string;
  readonly mode: ScenarioMode;
  readonly faults: readonly Fault[];
  /** Length of the run in microseconds of scenario time. */
  readonly durationUs: number;
  readonly options: ScenarioOptions;
  readonly rng: SeededRandom;
}

export interface RunRecord<Truth> {
  readonly history: readonly HistoryEntry[];
  readonly truth: Truth;
  readonly metrics: Readonly<Record<string, number>>;
  /** Free-form facts for the report (for example the exact error messages a real library raised). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface Violation {
  readonly invariant: string;
  readonly message: string;
  readonly timeUs?: number;
}

/**
 * What one invariant found in one run: its violations, and how many cases it checked (operations, minutes,
 * recoveries...). A fix holds only where every invariant checked something: an invariant that had nothing
 * to check (a run too short for it) proves nothing and gives the verdict `unchecked`.
 */
export interface InvariantResult {
  readonly violations: Violation[];
  readonly checked: number;
}

export interface Invariant<Truth> {
  readonly name: string;
  readonly describe: string;
  check(history: readonly HistoryEntry[], truth: Truth, context: RunContext): InvariantResult;
}

export interface ScenarioOptionSpec {
  readonly name: string;
  readonly describe: string;
  readonly defaultValue: number | string;
  /** String options: the values allowed. */
  readonly choices?: readonly string[];
  /** Number options: the inclusive range allowed, and whether only integers are. */
  readonly range?: readonly [number, number];
  readonly integer?: boolean;
}

export interface Scenario<Truth = unknown> {
  readonly name: string;
  readonly describe: string;
  readonly variants: readonly VariantSpec[];
  readonly modes: readonly ScenarioMode[];
  readonly optionSpecs: readonly ScenarioOptionSpec[];
  /** The fault kinds a schedule (seeded or given with --faults) may hold. */
  readonly faultKinds: readonly string[];
  /** Modes whose runs follow the fault schedule (so --faults replays one); the others inject none. */
  readonly faultModes: readonly ScenarioMode[];
  /** Modes whose runs last context.durationUs (so --duration-us applies); the others have a fixed length. */
  readonly durationModes: readonly ScenarioMode[];
  /** Scenario time of a full run and of the short run used by `npm test`, in microseconds, per mode. */
  durationUs(mode: ScenarioMode, short: boolean, options: ScenarioOptions): number;
  /** The seeded fault schedule of a run. The same seed gives the same schedule for every variant. */
  faultSchedule(rng: SeededRandom, durationUs: number, mode: ScenarioMode, options: ScenarioOptions): Fault[];
  /** Sim mode: virtual time only. May return a promise (settled by virtual time, never by a wall clock). */
  runSim(context: RunContext): RunRecord<Truth> | Promise<RunRecord<Truth>>;
  runReal?(context: RunContext): Promise<RunRecord<Truth>>;
  readonly invariants: readonly Invariant<Truth>[];
}

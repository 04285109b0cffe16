// What a run measures: each step's duration and row counts, and the statistics of sync.md.
// Steps log their start and end (`Step 1 (delta_keys): 5.0s, 12,517,521 groups`).
import { ConfigError, LockHeldError, StepError, StoppedError } from '../errors.js';
import { formatCount, formatDuration, type Logger } from '../log.js';
import type { PreflightCheck } from '../actions/preflight/check.js';
import type { RunStatistics, StatisticName } from '../report/statistics.js';

export interface StepRecord {
  /** `Step 1 (delta_keys)`, `Sync: update`… */
  readonly name: string;
  readonly seconds: number;
  /** The step's main row count, when it has one. */
  readonly rows?: number;
  readonly unit?: string;
  /** Statements of the step timed on their own (Step 1's narrow pass), included in `seconds`. */
  readonly parts?: readonly StepPart[];
}

export interface StepPart {
  readonly name: string;
  readonly seconds: number;
  readonly rows: number;
  readonly unit: string;
}

export interface RejectRecord {
  reason: string;
  count: number;
  /** The first rejected rows' keys and column, never a value (operations.md, "Security"). */
  examples: Array<{ VisitID: unknown; ConVisitID: unknown; column?: string }>;
}

/** What a dry run listed: its changes file and the file's number of lines (without the header). */
export interface DryRunChanges {
  readonly path: string;
  readonly lines: number;
}

export class RunRecorder {
  readonly steps: StepRecord[] = [];
  /** The statistics recorded so far (report/statistics.ts); a statistic not recorded is absent. */
  readonly stats: Partial<RunStatistics> = {};
  readonly rejects: RejectRecord[] = [];
  /** A dry run's changes file, once written (operations.md, "Dry run"). */
  dryRunChanges: DryRunChanges | undefined;
  /** The preflight checks of test_connections (operations.md, "Preflight checks"), in order. */
  readonly preflight: PreflightCheck[] = [];

  constructor(private readonly log: Logger) {}

  /**
   * Time one step, logging its start and end. `count` turns the step's result into its row count
   * and unit for the log line. A failure is rethrown as a StepError naming the step (unless it
   * already names one, or decides the exit code itself), so the log says where a run failed.
   */
  async step<T>(
    name: string,
    fn: () => Promise<T>,
    count?: (result: T) => { rows: number; unit: string; parts?: readonly StepPart[] } | undefined,
  ): Promise<T> {
    this.log.info(`${name}: started`);
    const t0 = performance.now();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      throw inStep(name, err);
    }
    const seconds = (performance.now() - t0) / 1000;
    const c = count?.(result);
    this.steps.push({ name, seconds, rows: c?.rows, unit: c?.unit, ...(c?.parts?.length ? { parts: c.parts } : {}) });
    this.log.info(`${name}: ${formatDuration(seconds * 1000)}${c ? `, ${formatCount(c.rows)} ${c.unit}` : ''}`, {
      step: name,
      seconds: Number(seconds.toFixed(3)),
      ...(c ? { rows: c.rows } : {}),
    });
    return result;
  }

  set(name: StatisticName, value: number): void {
    this.stats[name] = value;
  }

  add(name: StatisticName, value: number): void {
    this.stats[name] = (this.stats[name] ?? 0) + value;
  }

  /** Set several statistics at once (a step's results). */
  record(values: Partial<RunStatistics>): void {
    for (const name of Object.keys(values) as StatisticName[]) {
      const v = values[name];
      if (v !== undefined) this.stats[name] = v;
    }
  }
}

/** `err` as a StepError of `step`; errors that name a step already or set the exit code pass as they are. */
export function inStep(step: string, err: unknown): unknown {
  if (err instanceof StepError || err instanceof StoppedError || err instanceof LockHeldError || err instanceof ConfigError) return err;
  return new StepError(step, err);
}

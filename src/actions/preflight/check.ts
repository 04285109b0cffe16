// The preflight checks' common shape (operations.md, "Preflight checks"): each check ends `ok`,
// `failed` (an access or semantics mismatch: the action fails) or `warning` (never fails), with
// what the job expected, what it found and what to do; logged as it ends, listed in the report.
import { errorMessage, oneLine } from '../../errors.js';
import type { Logger } from '../../log.js';

export type PreflightArea = 'warehouse access' | 'warehouse semantics' | 'PostgreSQL';
export type PreflightStatus = 'ok' | 'failed' | 'warning';

export interface PreflightCheck {
  readonly area: PreflightArea;
  /** What was checked: `table BI.DIMCAREGIVER`, `probe GPS grammar: 5.,.5`… */
  readonly check: string;
  readonly status: PreflightStatus;
  /** What the job expected (mismatches; for ok checks, what was found when worth saying). */
  readonly expected?: string;
  readonly found?: string;
  /** What to do about a mismatch. */
  readonly action?: string;
}

export interface Mismatch {
  expected: string;
  found: string;
  action: string;
}

/** Collects the checks of one test_connections run, logging each as it ends. */
export class Preflight {
  readonly checks: PreflightCheck[] = [];

  constructor(private readonly log: Logger) {}

  ok(area: PreflightArea, check: string, found?: string): void {
    this.add({ area, check, status: 'ok', ...(found !== undefined ? { found } : {}) });
  }

  fail(area: PreflightArea, check: string, m: Mismatch): void {
    this.add({ area, check, status: 'failed', ...m });
  }

  warn(area: PreflightArea, check: string, m: Mismatch): void {
    this.add({ area, check, status: 'warning', ...m });
  }

  /** `ok` when `mismatch` is undefined, else a failure. */
  expect(area: PreflightArea, check: string, mismatch: Mismatch | undefined, found?: string): void {
    if (mismatch) this.fail(area, check, mismatch);
    else this.ok(area, check, found);
  }

  /** Run `fn`; a thrown error is a failed check whose finding is the error. */
  async guard(area: PreflightArea, check: string, expected: string, action: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.fail(area, check, { expected, found: `error: ${oneLine(errorMessage(err))}`, action });
    }
  }

  get failures(): PreflightCheck[] {
    return this.checks.filter((c) => c.status === 'failed');
  }

  private add(c: PreflightCheck): void {
    this.checks.push(c);
    const fields = { preflight: c };
    if (c.status === 'ok') this.log.info(`Preflight ok: ${c.area}: ${c.check}${c.found ? ` (${c.found})` : ''}`, fields);
    else {
      const line = `${c.area}: ${c.check}: expected ${c.expected}, found ${c.found}. What to do: ${c.action}`;
      if (c.status === 'failed') this.log.error(`Preflight mismatch: ${line}`, fields);
      else this.log.warn(`Preflight warning: ${line}`, fields);
    }
  }
}

/** The failed checks as one error: the action fails (exit 1), every failure named. */
export class PreflightFailedError extends Error {
  override readonly name = 'PreflightFailedError';
  constructor(readonly failures: readonly PreflightCheck[]) {
    super(
      `${failures.length} preflight check${failures.length === 1 ? '' : 's'} failed: ` +
        failures.map((f) => `${f.area}: ${f.check} (expected ${f.expected}, found ${f.found})`).join('; '),
    );
  }
}

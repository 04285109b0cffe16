// The run report: every run's statistics as one JSON file (operations.md, "Configuration",
// RUN_REPORT_PATH; sync.md, "Statistics every run reports", "Invalid rows"). Shape: docs/run-report.md.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ActionResult, RunEnd } from './finish.js';
import type { PreflightCheck } from '../actions/preflight/check.js';
import type { DryRunChanges, RejectRecord, StepRecord } from '../run/recorder.js';
import type { RunStatistics } from './statistics.js';

/** Bumped when a field changes meaning or disappears; new fields do not bump it. */
export const REPORT_VERSION = 1;

export interface RunReport {
  reportVersion: number;
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  environment: string;
  /** The target schema (POSTGRES_SCHEMA); null when the configuration did not load. */
  schema: string | null;
  status: RunEnd['status'];
  exitCode: number;
  /** The error that ended the run (failed, stopped, skipped), else null. */
  error: string | null;
  actions: Array<{ name: string; outcome: ActionResult['outcome']; seconds: number; error?: string }>;
  /** The effective configuration as logged by validate_config, secrets masked; null when it did not load. */
  parameters: Record<string, string> | null;
  steps: Array<{ name: string; seconds: number; rows?: number; unit?: string; parts?: Array<{ name: string; seconds: number; rows: number; unit: string }> }>;
  /** Name → number: the RunStatistics recorded (report/statistics.ts); readers accept other names too. */
  statistics: Record<string, number>;
  rejects: Array<{ reason: string; count: number; examples: Array<Record<string, unknown>> }>;
  /** DRY_RUN: the run rolled back; its statistics are what it would have written (always written; absent in older reports). */
  dryRun?: boolean;
  /** A dry run's changes file and its number of lines, once written; else null. */
  dryRunChanges?: { path: string; lines: number } | null;
  /** test_connections' preflight checks: each `ok`, `failed` or `warning`, mismatches with expected, found and what to do; empty when it did not run. */
  preflight?: PreflightCheck[];
}

export interface ReportInput {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  environment: string;
  schema: string | null;
  end: RunEnd;
  parameters: ReadonlyArray<readonly [string, string]> | null;
  steps: readonly StepRecord[];
  stats: Readonly<Partial<RunStatistics>>;
  rejects: readonly RejectRecord[];
  /** DRY_RUN (default false). */
  dryRun?: boolean;
  dryRunChanges?: DryRunChanges;
  preflight?: readonly PreflightCheck[];
  /** Secret values that must not appear anywhere in the report (replaced by ***). */
  secrets?: readonly string[];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** A value from data (a reject's key, an error) as plain JSON: bigint and Date as strings. */
function plain(v: unknown, depth = 0): unknown {
  if (v === null || v === undefined) return v ?? null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (depth > 4) return String(v);
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1));
  if (typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x, depth + 1)]));
  }
  return String(v);
}

/** Replace every secret value inside every string of `v` by ***. */
export function redactDeep<T>(v: T, secrets: readonly string[]): T {
  const list = secrets.filter((s) => s.length >= 4);
  if (list.length === 0) return v;
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return list.reduce((acc, s) => acc.split(s).join('***'), x);
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [walk(k) as string, walk(y)]));
    return x;
  };
  return walk(v) as T;
}

export function buildRunReport(input: ReportInput): RunReport {
  const { end } = input;
  const statistics: Record<string, number> = {};
  for (const [k, v] of Object.entries(input.stats)) if (v !== undefined) statistics[k] = Number.isFinite(v) ? v : 0;
  const report: RunReport = {
    reportVersion: REPORT_VERSION,
    runId: input.runId,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationSeconds: round3(end.totalMs / 1000),
    environment: input.environment,
    schema: input.schema,
    status: end.status,
    exitCode: end.exitCode,
    error: end.error ?? null,
    actions: end.results.map((r) => ({
      name: r.name,
      outcome: r.outcome,
      seconds: round3(r.ms / 1000),
      ...(r.error !== undefined ? { error: r.error } : {}),
    })),
    parameters: input.parameters ? Object.fromEntries(input.parameters.map(([k, v]) => [k, v])) : null,
    steps: input.steps.map((s) => ({
      name: s.name,
      seconds: round3(s.seconds),
      ...(s.rows !== undefined ? { rows: s.rows } : {}),
      ...(s.unit !== undefined ? { unit: s.unit } : {}),
      ...(s.parts ? { parts: s.parts.map((p) => ({ ...p, seconds: round3(p.seconds) })) } : {}),
    })),
    statistics,
    rejects: input.rejects.map((r) => ({
      reason: r.reason,
      count: r.count,
      examples: r.examples.map((e) => plain(e) as Record<string, unknown>),
    })),
    dryRun: input.dryRun ?? false,
    dryRunChanges: input.dryRunChanges ? { ...input.dryRunChanges } : null,
    preflight: (input.preflight ?? []).map((c) => ({ ...c })),
  };
  return redactDeep(report, input.secrets ?? []);
}

/** `2026-02-14T06:00:00.123Z` → `2026-02-14T06-00-00Z`: a file name valid on every system. */
export function reportTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** RUN_REPORT_PATH, else `data/reports/<run start>.json` (relative to the working directory). */
export function reportPath(configured: string | undefined, startedAt: Date): string {
  return configured ?? join('data', 'reports', `${reportTimestamp(startedAt)}.json`);
}

/** DRY_RUN_CHANGES_PATH, else next to the run report: `<report>.json` → `<report>.changes.csv`. */
export function dryRunChangesPath(configured: string | undefined, report: string): string {
  return configured ?? `${report.replace(/\.json$/i, '')}.changes.csv`;
}

/** Write atomically: a temporary file in the same directory, then a rename over the target. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { encoding: 'utf8', mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

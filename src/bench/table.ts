// The benchmark's result: one table (performance.md) and the JSON of operations.md
// (`totalSeconds`, `peakRssMb`, per step `seconds`, `rows`, `baselineSeconds`, `ratio`).
import type { DuckDbBaseline, PostgresBaseline } from './baseline.js';
import type { JobRunResult } from './job.js';

export interface StepResult {
  name: string;
  seconds: number;
  rows: number | null;
  unit: string | null;
  rowsPerSecond: number | null;
  /** The engine work of this step measured on its own; null: the step is engine SQL only. */
  baselineSeconds: number | null;
  /** What the baseline is made of. */
  baseline: string | null;
  ratio: number | null;
}

/**
 * Which engine baseline a job step compares with. A streamed step includes the consumer: the
 * warehouse query and the PostgreSQL COPY it feeds run as one pipeline, so its baseline is the
 * two engine times added (the job overlaps them, so it can beat the sum; Node.js sits between).
 */
export function baselineFor(step: string, duck: DuckDbBaseline | undefined, pg: PostgresBaseline | undefined): { seconds: number; what: string } | undefined {
  if (!duck) return undefined;
  const d = (name: string) => duck.seconds[name];
  // The open keys' baseline sends the same packs, read from PostgreSQL the same way.
  const plain = ['Step 0 (excluded_ssns)', 'Step 1 (delta_keys)', 'Step 2a (base_visits changed)', 'Step 2b (base_visits unchanged)', "Open rows' keys (to the warehouse)"];
  if (plain.includes(step) && d(step) !== undefined) return { seconds: d(step), what: 'DuckDB: same statements' };
  const streamed: Record<string, [string, keyof PostgresBaseline['seconds']]> = {
    'Sync: affected groups (COPY)': ['Affected groups', 'groups'],
    'Sync: scope visits (COPY)': ['Scope visit ids', 'scope'],
    'Step 3 (conflicts)': ['Step 3 (conflicts)', 'detected'],
    'Sync: staging (COPY)': ['Step 3 (conflicts)', 'detected'],
  };
  const s = streamed[step];
  if (!s || d(s[0]) === undefined) return undefined;
  if (!pg) return { seconds: d(s[0]), what: 'DuckDB COPY TO /dev/null' };
  return { seconds: d(s[0]) + pg.seconds[s[1]], what: 'DuckDB COPY TO /dev/null + PostgreSQL COPY' };
}

type ReportStep = { name: string; seconds: number; rows?: number; unit?: string; parts?: ReadonlyArray<{ name: string; seconds: number; rows: number; unit: string }> };

/** One result per step; a step's parts (Step 1's narrow pass) follow it as rows `  <step>: <part>`, without a baseline. */
export function stepResults(steps: readonly ReportStep[], duck: DuckDbBaseline | undefined, pg: PostgresBaseline | undefined): StepResult[] {
  const flat = steps.flatMap((s) => [s, ...(s.parts ?? []).map((p) => ({ ...p, name: `  ${s.name.replace(/ \(.*\)$/, '')}: ${p.name}`, part: true }))]);
  return flat.map((s) => {
    const b = 'part' in s ? undefined : baselineFor(s.name, duck, pg);
    const rows = s.rows ?? null;
    return {
      name: s.name,
      seconds: round(s.seconds, 3),
      rows,
      unit: s.unit ?? null,
      rowsPerSecond: rows !== null && s.seconds > 0 ? Math.round(rows / s.seconds) : null,
      baselineSeconds: b ? round(b.seconds, 3) : null,
      baseline: b?.what ?? null,
      ratio: b && b.seconds > 0 ? round(s.seconds / b.seconds, 2) : null,
    };
  });
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const fmt = (n: number | null, digits = 0) =>
  n === null ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Plain-text table, one row per step, then the total and memory lines. */
export function renderTable(
  steps: readonly StepResult[],
  totals: {
    totalSeconds: number;
    jobSeconds: number;
    peakRssMb: number;
    postgresPeakMb?: number;
    /** The job's own DuckDB process (undefined: DuckDB ran inside the job process). */
    jobDuckdbPeakMb?: number;
    duckdbPeakMb?: number;
    duckdbIdleMb?: number;
    /** The warehouse was the Snowflake stand-in, in a process of its own. */
    throughStandIn?: boolean;
  },
): string {
  const head = ['step', 'seconds', 'rows', 'rows/s', 'baseline s', 'ratio'];
  const body = steps.map((s) => [s.name, fmt(s.seconds, 2), fmt(s.rows), fmt(s.rowsPerSecond), fmt(s.baselineSeconds, 2), s.ratio === null ? '–' : `${s.ratio.toFixed(2)}×`]);
  body.push(['total (job process, start to exit)', fmt(totals.totalSeconds, 2), '', '', '', '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(head), sep, ...body.slice(0, -1).map(line), sep, line(body[body.length - 1])];
  if (totals.jobDuckdbPeakMb !== undefined) {
    out.push(`peak RSS, job process: ${fmt(totals.peakRssMb)} MB`);
    out.push(`peak RSS, the job's DuckDB process (the warehouse): ${fmt(totals.jobDuckdbPeakMb)} MB`);
  } else if (totals.throughStandIn) {
    out.push(`peak RSS, job process (Node.js and snowflake-sdk; the Snowflake stand-in runs in its own process): ${fmt(totals.peakRssMb)} MB`);
  } else {
    out.push(`peak RSS, job process (Node.js + in-process DuckDB): ${fmt(totals.peakRssMb)} MB`);
  }
  if (totals.duckdbPeakMb !== undefined) {
    out.push(
      `peak RSS, DuckDB baseline process (same statements, own process): ${fmt(totals.duckdbPeakMb)} MB (${fmt(totals.duckdbIdleMb ?? 0)} MB before the first statement)`,
    );
  }
  if (totals.postgresPeakMb !== undefined) out.push(`peak resident memory, PostgreSQL server during the run: ${fmt(totals.postgresPeakMb)} MB`);
  return out.join('\n');
}

/**
 * The job process's memory: peak RSS (from /proc) and its V8 heap (from inside), for the timed
 * run and, when it went through the Snowflake driver, for the DuckDB path's run beside it; then
 * the driver's chunk parsing.
 */
export function renderMemory(warehouse: string, run: JobRunResult, duckdbRun: JobRunResult | undefined): string {
  const rows: string[][] = [];
  const row = (label: string, r: JobRunResult) => {
    const m = r.memory;
    rows.push([
      label,
      fmt(r.wallSeconds, 1),
      m?.cpuSeconds === undefined ? '–' : fmt(m.cpuSeconds, 1),
      fmt(r.peakRssMb),
      m ? fmt(m.peakHeapUsedMb) : '–',
      m ? fmt(m.peakHeapTotalMb) : '–',
      m ? fmt(m.heapSizeLimitMb) : '–',
    ]);
  };
  row(warehouse === 'snowflake-stand-in' ? 'through snowflake-sdk (stand-in)' : 'DuckDB path', run);
  if (duckdbRun) row('DuckDB path', duckdbRun);
  const head = ['job process', 'seconds', 'CPU s', 'peak RSS MB', 'V8 heap used MB', 'V8 heap committed MB', 'heap limit MB'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const p = run.chunkParse;
  if (p) {
    out.push(
      `driver: ${fmt(p.chunks)} result chunks, ${fmt(p.megabytes)} MB of JSON, ${fmt(p.rows)} rows, parsed in ${fmt(p.seconds, 1)} s ` +
        `(${fmt((p.seconds / Math.max(run.wallSeconds, 1e-9)) * 100, 0)}% of the run)`,
    );
  }
  return out.join('\n');
}

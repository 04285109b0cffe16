// `bench --compare-with REV`: the results of this program against those of an earlier revision,
// on the same warehouse and the same prior state (issue 17: a faster detection must detect and
// write exactly the same rows). Both sides are reduced to a sorted list of row digests:
// - detected rows: the lines the DuckDB baseline exports (the bytes the job's staging COPY sends),
//   without their row number;
// - end state: every row of conflictvisitmaps (without its identity ID, which follows insert
//   order) and of conflicts, timestamps written by the run shown as `now` (they are PostgreSQL's
//   CURRENT_TIMESTAMP, different in every run).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { postgresText } from '../sqlText.js';
import { duckdbBaseline, type ExportFiles } from './baseline.js';
import { buildProgram, programLabel, ROOT, runJob, type CompiledRevision, type Program } from './job.js';
import { cloneDatabase, type BenchServer } from './server.js';

/** The job's schema in the bench (jobEnv: ENVIRONMENT=dev). */
export const TARGET_SCHEMA = 'conflict_dev';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The program of git revision `rev`: its src/ extracted and compiled under .bench/rev-<sha>/ (once). */
export async function revisionProgram(rev: string, say: (m: string) => void): Promise<CompiledRevision> {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(ROOT, '.bench', `rev-${sha.slice(0, 12)}`);
  const dist = join(dir, 'dist');
  if (!existsSync(join(dist, 'cli.js'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Under .bench/ the compiled files find this checkout's node_modules and package.json ("type": "module").
    const tar = execFileSync('git', ['archive', '--format=tar', sha, 'src'], { cwd: ROOT, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    await buildProgram(say, join(dir, 'src'), dist);
  }
  return { dist, label: `${rev} (${sha.slice(0, 12)})` };
}

/** Sorted digests of the detected rows a baseline exported (`rn \t values`). */
export async function detectedDigests(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line) out.push(md5(line.slice(line.indexOf('\t') + 1)));
  }
  return out.sort();
}

const TIMESTAMP_TYPES = new Set(['timestamp without time zone', 'timestamp with time zone']);

/**
 * Sorted digests of every row of conflictvisitmaps and conflicts. `since`: PostgreSQL's time
 * (the session's, as text) taken just before the run; later timestamps read `now`.
 */
export async function endStateDigests(c: pg.Client, schema: string, since: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of ['conflictvisitmaps', 'conflicts']) {
    const cols = await c.query<{ name: string; type: string }>(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    );
    const exprs = cols.rows
      .filter((col) => !(table === 'conflictvisitmaps' && col.name === 'ID'))
      .map((col) => {
        const q = postgresText.ident(col.name);
        return TIMESTAMP_TYPES.has(col.type) ? `CASE WHEN ${q} >= $1::timestamp THEN 'now' ELSE ${q}::text END` : `${q}::text`;
      });
    // ROW(…)::text tells NULL from '' (a NULL field is empty, an empty string is "").
    const r = await c.query<{ h: string }>(`SELECT md5(ROW(${exprs.join(', ')})::text) AS h FROM ${postgresText.qualified(schema, table)}`, [since]);
    out[table] = r.rows.map((x) => x.h).sort();
  }
  return out;
}

export interface Difference {
  readonly rows: number;
  readonly otherRows: number;
  /** Digests only this program has, and only the other has. */
  readonly onlyHere: number;
  readonly onlyOther: number;
}

/** Two sorted digest lists compared as multisets. */
export function difference(here: readonly string[], other: readonly string[]): Difference {
  let i = 0;
  let j = 0;
  let onlyHere = 0;
  let onlyOther = 0;
  while (i < here.length || j < other.length) {
    if (j >= other.length || (i < here.length && here[i] < other[j])) {
      onlyHere++;
      i++;
    } else if (i >= here.length || other[j] < here[i]) {
      onlyOther++;
      j++;
    } else {
      i++;
      j++;
    }
  }
  return { rows: here.length, otherRows: other.length, onlyHere, onlyOther };
}

export function describeDifference(what: string, d: Difference): string {
  return d.onlyHere === 0 && d.onlyOther === 0
    ? `${what}: identical (${d.rows.toLocaleString('en-US')} rows)`
    : `${what}: DIFFERENT: ${d.rows.toLocaleString('en-US')} rows here, ${d.otherRows.toLocaleString('en-US')} there; ` +
        `${d.onlyHere.toLocaleString('en-US')} only here, ${d.onlyOther.toLocaleString('en-US')} only there`;
}

export interface Comparison {
  readonly revision: string;
  readonly detected: Difference;
  readonly endState: Record<string, Difference>;
  /** The run statistics of both programs that describe what was written. */
  readonly statistics: { readonly here: Record<string, number>; readonly other: Record<string, number> };
}

const WRITTEN = ['detected', 'matched', 'new', 'inserted', 'updated', 'staleResolved', 'exclusionResolved'];

export interface CompareInput {
  readonly server: BenchServer;
  readonly admin: pg.Client;
  /** The prior state's template database and the database the runs use. */
  readonly template: string;
  readonly runDb: string;
  readonly duckdbPath: string;
  readonly asOf: string;
  /** Where the exported rows and the other run's log go. */
  readonly dir: string;
  readonly here: Program;
  /** This program's end state and statistics, from one of its timed runs (endStateDigests). */
  readonly hereEndState: Record<string, string[]>;
  readonly hereStatistics: Record<string, number>;
  readonly env: Readonly<Record<string, string>>;
  readonly duckdb: Readonly<Record<string, string>>;
  readonly revision: string;
  readonly say: (m: string) => void;
}

/** PostgreSQL's current time as the session sees it (the job's CURRENT_TIMESTAMP is at or after it). */
export async function serverNow(c: pg.Client): Promise<string> {
  return (await c.query<{ t: string }>('SELECT LOCALTIMESTAMP::text AS t')).rows[0].t;
}

/** The revision's program: its detected rows and end state against this program's. */
export async function compareWithRevision(input: CompareInput): Promise<Comparison> {
  const { say } = input;
  const other = await revisionProgram(input.revision, say);
  const detected: string[][] = [];
  for (const [name, program] of [['here', input.here], ['other', other]] as const) {
    const d = join(input.dir, 'compare', name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    const exports: ExportFiles = { detected: join(d, 'detected.copy'), groups: join(d, 'groups.copy'), scope: join(d, 'scope.copy') };
    say(`Compare: the detected rows of ${programLabel(program)} (its DuckDB baseline, exported)`);
    await duckdbBaseline(
      { server: input.server, database: input.template, duckdbPath: input.duckdbPath, asOf: input.asOf, program, env: input.env, duckdb: input.duckdb, specPath: join(d, 'baseline.json'), exports },
      program,
    );
    detected.push(await detectedDigests(exports.detected));
  }
  say(`Compare: one run of ${other.label} on a fresh clone of the prior state`);
  await cloneDatabase(input.admin, input.template, input.runDb);
  const since = await serverNow(input.admin);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const r = await runJob({
    server: input.server,
    database: input.runDb,
    duckdbPath: input.duckdbPath,
    asOf: input.asOf,
    reportPath: join(input.dir, 'compare', `${stamp}.json`),
    logPath: join(input.dir, 'compare', `${stamp}.log`),
    program: other,
    env: input.env,
    duckdb: input.duckdb,
  });
  if (r.exitCode !== 0) throw new Error(`${other.label}: the job failed with exit ${r.exitCode}: see ${r.logPath}`);
  const c = await input.server.connect(input.runDb);
  let otherEnd: Record<string, string[]>;
  try {
    otherEnd = await endStateDigests(c, TARGET_SCHEMA, since);
  } finally {
    await c.end();
  }
  const pick = (st: Record<string, number>) => Object.fromEntries(WRITTEN.filter((k) => k in st).map((k) => [k, st[k]]));
  return {
    revision: other.label,
    detected: difference(detected[0], detected[1]),
    endState: Object.fromEntries(Object.keys(input.hereEndState).map((t) => [t, difference(input.hereEndState[t], otherEnd[t] ?? [])])),
    statistics: { here: pick(input.hereStatistics), other: pick(r.report?.statistics ?? {}) },
  };
}

/** The lines the bench prints for a comparison. */
export function comparisonLines(cmp: Comparison): string[] {
  return [
    `Results against ${cmp.revision}:`,
    `  ${describeDifference('detected rows', cmp.detected)}`,
    ...Object.entries(cmp.endState).map(([t, d]) => `  ${describeDifference(`end state of ${t}`, d)}`),
    `  statistics here:  ${JSON.stringify(cmp.statistics.here)}`,
    `  statistics there: ${JSON.stringify(cmp.statistics.other)}`,
  ];
}

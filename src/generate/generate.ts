// Deterministic generator of a realistic synthetic DuckDB warehouse (schema BI, the tables and
// columns of warehouse-columns.tsv), shaped like production (performance.md profiles).
//
// The bulk is generated inside DuckDB (range() + hash(seed, …) pseudo-random values, INSERT …
// SELECT); JavaScript only orchestrates and adds the small hand-crafted edge-case rows. The same
// seed and asOf give identical table contents (with one DuckDB version: hash() is DuckDB's own).
import { existsSync, rmSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbDialect } from '../detection/dialect/duckdb.js';
import { duckdbText, type SqlScalar } from '../sqlText.js';
import { bulkPlan, BULK_CLEANUP } from './bulk.js';
import { edgeData, type EdgeScenario } from './edge-cases.js';
import { PROFILES, type Profile } from './profiles.js';
import { DAY_MS, formatDate, minusYears, parseNaive, tableRef, warehouseDdl, warehouseTables } from './sql-util.js';

export { PROFILES, type Profile, type ProfileSpec } from './profiles.js';
export { edgeData, type EdgeScenario } from './edge-cases.js';

/** SSNs the data uses as placeholders; a run should list them in `excluded_ssn`. */
export const PLACEHOLDER_SSNS = ['000-00-0000', '999-99-9999'] as const;

/** The lookback the summary's `changedVisits` counts with (LOOKBACK_HOURS default). */
export const SUMMARY_LOOKBACK_HOURS = 36;

/** SSNs trimmed as detection trims them (detection.md, "Trimming"). */
const trim = duckdbDialect.trimSpaces;

export interface GenerateOptions {
  profile: Profile;
  seed: number;
  out: string;
  /** the run instant T the data is built around: a naive local timestamp 'YYYY-MM-DD HH:MM:SS' */
  asOf: string;
  onProgress?: (msg: string) => void;
}

export interface GenerateSummary {
  out: string;
  profile: Profile;
  seed: number;
  asOf: string;
  /** Rows of the fact table (one per visit), edge cases included. */
  visits: number;
  /** Distinct trimmed, non-empty caregiver SSNs (people; one person has a DIMCAREGIVER row per agency). */
  caregivers: number;
  /** Distinct provider ids. */
  providers: number;
  /** Visits with `Visit Updated Timestamp` ≥ asOf − 36 hours. */
  changedVisits: number;
  seconds: number;
}

function validate(opts: GenerateOptions): void {
  if (!Object.hasOwn(PROFILES, opts.profile)) {
    throw new Error(`unknown profile '${String(opts.profile)}' (expected one of ${Object.keys(PROFILES).join(', ')})`);
  }
  if (!Number.isSafeInteger(opts.seed)) throw new Error(`seed must be an integer, got ${opts.seed}`);
  if (!opts.out) throw new Error('out must be a file path');
  parseNaive(opts.asOf);
}

async function exec(conn: DuckDBConnection, sql: string): Promise<void> {
  await conn.run(sql);
}

async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  const v = reader.getRows()[0]?.[0];
  return Number(v ?? 0);
}

function removeDbFiles(path: string): void {
  for (const p of [path, `${path}.wal`]) if (existsSync(p)) rmSync(p, { force: true });
}

/** Insert hand-crafted rows (all columns of the table, NULL where absent) with typed literals. */
async function insertRows(conn: DuckDBConnection, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const cols = warehouseTables().get(table);
  if (!cols) throw new Error(`unknown table ${table}`);
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!cols.some((c) => c.name === k)) throw new Error(`edge row of ${table} has unknown column '${k}'`);
    }
  }
  const values = rows.map(
    (r) => `(${cols.map((c) => `CAST(${duckdbText.literal((r[c.name] ?? null) as SqlScalar)} AS ${c.type})`).join(', ')})`,
  );
  await exec(conn, `INSERT INTO ${tableRef(table)} (${cols.map((c) => duckdbText.ident(c.name)).join(', ')}) VALUES ${values.join(',\n')}`);
}

function windowPastDays(asOf: string): number {
  const t = parseNaive(asOf);
  return Math.round((Math.floor(t / DAY_MS) - Math.floor(minusYears(t, 2) / DAY_MS)));
}

export async function generateWarehouse(opts: GenerateOptions): Promise<GenerateSummary> {
  validate(opts);
  const started = performance.now();
  const progress = opts.onProgress ?? (() => {});
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  removeDbFiles(tmp);
  const spec = PROFILES[opts.profile];
  const asOfMs = parseNaive(opts.asOf);
  const asOfSql = `TIMESTAMP ${duckdbText.str(opts.asOf)}`;

  const instance = await DuckDBInstance.create(tmp);
  let conn: DuckDBConnection | undefined;
  try {
    conn = await instance.connect();
    // row order is not part of the contents; letting DuckDB write in any order is faster
    await exec(conn, 'SET preserve_insertion_order = false');
    for (const ddl of warehouseDdl()) await exec(conn, ddl);

    const plan = bulkPlan({
      seed: opts.seed,
      spec,
      asOfSql,
      today: formatDate(asOfMs),
      nowMinute: Math.floor((asOfMs % DAY_MS) / 60_000),
      windowPastDays: windowPastDays(opts.asOf),
    });
    progress(
      `generate ${opts.profile} (seed ${opts.seed}, asOf ${opts.asOf}): ~${spec.visits.toLocaleString('en-US')} visits, ` +
        `${plan.sizes.caregivers.toLocaleString('en-US')} caregivers, ${plan.sizes.providers} providers, ${plan.sizes.patients.toLocaleString('en-US')} patients`,
    );
    for (const m of plan.macros) await exec(conn, m);
    for (const step of plan.steps) {
      const t0 = performance.now();
      await exec(conn, step.sql);
      progress(`  ${step.label}: ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    }
    for (const s of BULK_CLEANUP) await exec(conn, s);

    const t0 = performance.now();
    const edges = edgeData(opts.asOf);
    for (const [table, rows] of Object.entries(edges.rows)) await insertRows(conn, table, rows);
    progress(`  edge cases: ${edges.scenarios.length} scenarios, ${((performance.now() - t0) / 1000).toFixed(1)}s`);

    const fact = tableRef('FACTVISITCALLPERFORMANCE_CR');
    const visits = await scalar(conn, `SELECT count(*) FROM ${fact}`);
    const changedVisits = await scalar(
      conn,
      `SELECT count(*) FROM ${fact} WHERE "Visit Updated Timestamp" >= ${asOfSql} - INTERVAL ${SUMMARY_LOOKBACK_HOURS} HOUR`,
    );
    const caregivers = await scalar(
      conn,
      `SELECT count(DISTINCT ${trim('"SSN"')}) FROM ${tableRef('DIMCAREGIVER')} WHERE ${trim('"SSN"')} <> ''`,
    );
    const providers = await scalar(conn, `SELECT count(DISTINCT "Provider Id") FROM ${tableRef('DIMPROVIDER')}`);
    await exec(conn, 'CHECKPOINT');
    conn.closeSync();
    conn = undefined;
    instance.closeSync();

    removeDbFiles(out);
    renameSync(tmp, out);
    if (existsSync(`${tmp}.wal`)) renameSync(`${tmp}.wal`, `${out}.wal`);
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    progress(`wrote ${out}: ${visits.toLocaleString('en-US')} visits, ${changedVisits.toLocaleString('en-US')} changed, ${seconds}s`);
    return { out, profile: opts.profile, seed: opts.seed, asOf: opts.asOf, visits, caregivers, providers, changedVisits, seconds };
  } catch (err) {
    try {
      conn?.closeSync();
      instance.closeSync();
    } catch {
      // already closed
    }
    removeDbFiles(tmp);
    throw err;
  }
}

/**
 * Apply a round of changes to an existing warehouse: touch `fraction` of visits (new times, some
 * moved) with Visit Updated Timestamp near asOf. Used by the demo's second run and the soak test.
 * Deterministic for a seed.
 *
 * The touched visits are the round(fraction × visits) with the smallest hash(seed, Visit Id).
 * Each gets `Visit Updated Timestamp` in (asOf − 6 h, asOf] and one of:
 * - about 1 in 5: its times set equal to another visit of the same caregiver (SSN) on the same day
 *   at another agency, when there is one (a new conflict);
 * - about 1 in 6: moved a day (earlier for started visits, later for the others), times shifted;
 * - otherwise: scheduled, visit and call times shifted by ±15…60 minutes.
 */
export async function mutateWarehouse(opts: { path: string; seed: number; asOf: string; fraction: number }): Promise<{ changedVisits: number }> {
  if (!Number.isSafeInteger(opts.seed)) throw new Error(`seed must be an integer, got ${opts.seed}`);
  if (!(opts.fraction >= 0 && opts.fraction <= 1)) throw new Error(`fraction must be within 0…1, got ${opts.fraction}`);
  parseNaive(opts.asOf);
  if (!existsSync(opts.path)) throw new Error(`no warehouse at ${opts.path}`);
  const instance = await DuckDBInstance.create(opts.path);
  const conn = await instance.connect();
  const fact = tableRef('FACTVISITCALLPERFORMANCE_CR');
  const cg = tableRef('DIMCAREGIVER');
  const T = `TIMESTAMP ${duckdbText.str(opts.asOf)}`;
  const S = `${opts.seed}::BIGINT`;
  try {
    const total = await scalar(conn, `SELECT count(*) FROM ${fact}`);
    const n = Math.round(total * opts.fraction);
    if (n === 0) return { changedVisits: 0 };
    await exec(conn, 'BEGIN TRANSACTION');
    await exec(
      conn,
      `CREATE OR REPLACE TEMP TABLE m_sel AS
WITH sel AS (
  SELECT "Visit Id" AS vid, hash(${S}, 7001::BIGINT, "Visit Id") AS hv
  FROM ${fact}
  ORDER BY hv, vid
  LIMIT ${n}
), withv AS (
  SELECT s.vid, s.hv, f."Visit Date" AS vdate, f."Provider Id" AS prov, ${trim('c."SSN"')} AS ssn,
    f."Visit Start Time" IS NOT NULL AS started
  FROM sel s JOIN ${fact} f ON f."Visit Id" = s.vid
  LEFT JOIN (SELECT "Caregiver Id", min("SSN") AS "SSN" FROM ${cg} GROUP BY ALL) c ON c."Caregiver Id" = f."Caregiver Id"
), partner AS (
  SELECT w.vid,
    arg_min(struct_pack(ss := f."Scheduled Start Time", se := f."Scheduled End Time", vs := f."Visit Start Time", ve := f."Visit End Time"),
            hash(${S}, 7002::BIGINT, f."Visit Id")) AS p
  FROM withv w
  JOIN ${cg} c2 ON ${trim('c2."SSN"')} = w.ssn
  JOIN ${fact} f ON f."Caregiver Id" = c2."Caregiver Id" AND f."Visit Date" = w.vdate AND f."Provider Id" <> w.prov
  WHERE w.ssn <> '' AND hash(${S}, 7003::BIGINT, w.vid) % 5 = 0
  GROUP BY w.vid
)
SELECT w.vid,
  CASE WHEN pt.p IS NOT NULL THEN 'copy' WHEN hash(${S}, 7004::BIGINT, w.vid) % 6 = 0 THEN 'move' ELSE 'shift' END AS how,
  pt.p,
  CASE WHEN hash(${S}, 7004::BIGINT, w.vid) % 6 = 0 THEN CASE WHEN w.started THEN -1 ELSE 1 END ELSE 0 END AS dd,
  [-60, -45, -30, -15, 15, 30, 45, 60][1 + (hash(${S}, 7005::BIGINT, w.vid) % 8)::INTEGER] AS dm,
  ${T} - to_seconds((hash(${S}, 7006::BIGINT, w.vid) % 21600)::BIGINT) AS upd
FROM withv w LEFT JOIN partner pt ON pt.vid = w.vid`,
    );
    const shift = (col: string) => `f.${duckdbText.ident(col)} + to_days(m.dd) + to_minutes(m.dm)`;
    await exec(
      conn,
      `UPDATE ${fact} AS f SET
  "Visit Date" = f."Visit Date" + to_days(CASE WHEN m.how = 'copy' THEN 0 ELSE m.dd END),
  "Scheduled Start Time" = CASE WHEN m.how = 'copy' THEN m.p.ss ELSE f."Scheduled Start Time" + to_days(m.dd) + to_minutes(m.dm) END,
  "Scheduled End Time" = CASE WHEN m.how = 'copy' THEN m.p.se ELSE f."Scheduled End Time" + to_days(m.dd) + to_minutes(m.dm) END,
  "Visit Start Time" = CASE WHEN m.how = 'copy' THEN (CASE WHEN f."Visit Start Time" IS NOT NULL THEN coalesce(m.p.vs, m.p.ss) END) ELSE ${shift('Visit Start Time')} END,
  "Visit End Time" = CASE WHEN m.how = 'copy' THEN (CASE WHEN f."Visit End Time" IS NOT NULL THEN coalesce(m.p.ve, m.p.se) END) ELSE ${shift('Visit End Time')} END,
  "Call In Time" = CASE WHEN m.how = 'copy' THEN (CASE WHEN f."Call In Time" IS NOT NULL THEN coalesce(m.p.vs, m.p.ss) END) ELSE ${shift('Call In Time')} END,
  "Call Out Time" = CASE WHEN m.how = 'copy' THEN (CASE WHEN f."Call Out Time" IS NOT NULL THEN coalesce(m.p.ve, m.p.se) END) ELSE ${shift('Call Out Time')} END,
  "Visit Updated Timestamp" = m.upd
FROM m_sel m
WHERE f."Visit Id" = m.vid`,
    );
    const changed = await scalar(conn, `SELECT count(*) FROM m_sel`);
    await exec(conn, 'DROP TABLE m_sel');
    await exec(conn, 'COMMIT');
    await exec(conn, 'CHECKPOINT');
    return { changedVisits: changed };
  } catch (err) {
    try {
      await exec(conn, 'ROLLBACK');
    } catch {
      // no transaction open
    }
    throw err;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The hand-crafted scenarios of a warehouse generated for `asOf`, with their expected outcomes. */
export function edgeScenarios(asOf: string): EdgeScenario[] {
  return edgeData(asOf).scenarios;
}

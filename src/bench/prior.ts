// The prior target state, shaped like the production run (performance.md): built once into a
// template database, cloned for every timed run.
//
// 1. init_db, reference data (the placeholder SSNs and a few thousand other excluded SSNs, a few
//    excluded agencies), then the job itself at AS_OF: conflictvisitmaps holds exactly this run's
//    detected rows, with their CONFLICTIDs and parent rows.
// 2. Stale rows: copies of ~1/17 of them (~9 K of 150 K) under fresh keys nobody detects: same
//    SSN and VisitDate, so in an affected group; open, CONFLICTID set.
// 3. ~2/3 of the detected rows deleted: ~1/3 match this run, the rest are new to it.
// 4. ~4 % of the matched rows made dirty: a business column changed, resolved (R: re-opened by
//    the run), or every rule flag reset to N.
// 5. Filler rows up to the profile's table size (generate_series, columns copied from detected
//    rows so they are as wide as real ones): keys nobody detects, dates before the detection
//    window (so outside every affected group) for the same caregivers, mixed statuses, 1 % InService/PTO,
//    two rows per CONFLICTID with parents in conflicts.
// 6. VACUUM ANALYZE.
import type pg from 'pg';
import { initDb } from '../target/initDb.js';
import { postgresIdent as q } from '../sqlText.js';

export const BENCH_SCHEMA = 'conflict_dev';
/** Bumped when the recipe changes: cached templates of an older recipe are rebuilt. */
export const PRIOR_RECIPE = 1;

export interface PriorShape {
  /** conflictvisitmaps rows in the template. */
  readonly tableRows: number;
  readonly stale: number;
  readonly excludedSsns: number;
  readonly excludedAgencies: number;
}

/** conflictvisitmaps size per profile: ≥ 5 M rows for prod (performance.md), 1/10 for medium. */
export const TABLE_ROWS: Record<string, number> = { small: 20_000, medium: 500_000, prod: 5_000_000 };
export const EXCLUDED_SSNS: Record<string, number> = { small: 50, medium: 500, prod: 3_000 };

const S = q(BENCH_SCHEMA);
const CVM = `${S}."conflictvisitmaps"`;
const PARENTS = `${S}."conflicts"`;

/** Step 1 before the job: init_db and the reference data of a production target. */
export async function initPrior(c: pg.Client, profile: string, placeholderSsns: readonly string[]): Promise<void> {
  await initDb(c, BENCH_SCHEMA);
  const n = EXCLUDED_SSNS[profile] ?? 100;
  await c.query(`INSERT INTO ${S}."excluded_ssn" ("SSN") SELECT unnest($1::text[])`, [placeholderSsns]);
  // SSNs that are nobody's (9xx is never issued): a realistic list length, no effect on the data.
  await c.query(
    `INSERT INTO ${S}."excluded_ssn" ("SSN") SELECT '9' || lpad((g % 100)::text, 2, '0') || '-' || lpad((g / 100 % 100)::text, 2, '0') || '-' || lpad(g::text, 4, '0')
       FROM generate_series(1, $1::int) g`,
    [n],
  );
  await c.query(
    `INSERT INTO ${S}."excluded_agency" ("AgencyName", "ProviderID", "AppProviderID")
     SELECT 'Excluded agency ' || g, md5('bench-excluded-agency-' || g)::uuid, 900000 + g FROM generate_series(1, 3) g`,
  );
}

async function columns(c: pg.Client): Promise<string[]> {
  const r = await c.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'conflictvisitmaps' ORDER BY ordinal_position`,
    [BENCH_SCHEMA],
  );
  return r.rows.map((x) => x.column_name);
}

/** INSERT INTO cvm SELECT every column but ID from `from`, with `overrides` (column → expression). */
function copyRows(cols: string[], overrides: Record<string, string>, from: string): string {
  const target = cols.filter((n) => n !== 'ID');
  const exprs = target.map((n) => overrides[n] ?? `t.${q(n)}`);
  return `INSERT INTO ${CVM} (${target.map(q).join(', ')}) SELECT ${exprs.join(', ')} FROM ${from}`;
}

const h = (e: string) => `abs(hashtext(${e}))`;
const keyHash = (salt: string) => h(`t."VisitID"::text || '/' || t."ConVisitID"::text || '${salt}'`);

/** Steps 2–6 after the job's first run; `log` gets one line per step. */
export async function shapePrior(c: pg.Client, profile: string, log: (m: string) => void): Promise<PriorShape> {
  const cols = await columns(c);
  const time = async (label: string, sql: string, params?: unknown[]): Promise<number> => {
    const t0 = performance.now();
    const r = await c.query(sql, params);
    log(`  ${label}: ${(r.rowCount ?? 0).toLocaleString('en-US')} rows, ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    return r.rowCount ?? 0;
  };
  await c.query('BEGIN');
  await c.query(`CREATE TEMPORARY TABLE bench_detected AS SELECT * FROM ${CVM}`);
  const detected = Number((await c.query(`SELECT count(*) AS n FROM bench_detected`)).rows[0].n);
  if (detected === 0) throw new Error('the first run detected no conflicts: the warehouse has none to build a prior state from');

  // 2. stale: fresh keys, same groups, open, CONFLICTID kept.
  const stale = await time(
    'stale rows (same SSN and VisitDate, keys nobody detects, open)',
    copyRows(
      cols,
      {
        VisitID: `md5('bench-stale-v-' || t."ID")::uuid`,
        ConVisitID: `md5('bench-stale-c-' || t."ID")::uuid`,
        StatusFlag: `CASE WHEN t."ID" % 4 = 0 THEN 'N' ELSE 'U' END`,
        CreatedDate: `t."CreatedDate" - interval '20 days'`,
        CRDATEUNIQUE: `t."CRDATEUNIQUE" - interval '20 days'`,
      },
      `bench_detected t WHERE ${keyHash('stale')} % 17 = 0`,
    ),
  );
  // 3. 2/3 of the detected rows gone: this run finds them new.
  await time(
    'detected rows deleted (new to the run)',
    `DELETE FROM ${CVM} t USING bench_detected d WHERE t."ID" = d."ID" AND ${keyHash('keep')} % 3 <> 0`,
  );
  // 4. ~4 % of the remaining (matched) rows dirty, three ways.
  const dirty = `t."ID" IN (SELECT "ID" FROM bench_detected) AND ${keyHash('dirty')} % 25 = 0`;
  await time(
    'matched rows dirty: business columns',
    `UPDATE ${CVM} t SET "SchEndTime" = t."SchEndTime" + interval '15 minutes', "ProviderName" = left(coalesce(t."ProviderName", '') || ' (old)', 100)
      WHERE ${dirty} AND ${keyHash('how')} % 3 = 0`,
  );
  await time(
    'matched rows dirty: resolved earlier (re-opened)',
    `UPDATE ${CVM} t SET "StatusFlag" = 'R', "ResolveDate" = CURRENT_TIMESTAMP - interval '3 days', "ResolvedBy" = 'bench'
      WHERE ${dirty} AND ${keyHash('how')} % 3 = 1`,
  );
  await time(
    'matched rows dirty: rule flags N',
    `UPDATE ${CVM} t SET "SameSchTimeFlag" = 'N', "SameVisitTimeFlag" = 'N', "SchAndVisitTimeSameFlag" = 'N',
            "SchOverAnotherSchTimeFlag" = 'N', "VisitTimeOverAnotherVisitTimeFlag" = 'N', "SchTimeOverVisitTimeFlag" = 'N', "DistanceFlag" = 'N'
      WHERE ${dirty} AND ${keyHash('how')} % 3 = 2`,
  );
  // 5. filler: history of the same caregivers before the window; statuses mixed.
  const have = Number((await c.query(`SELECT count(*) AS n FROM ${CVM}`)).rows[0].n);
  const want = TABLE_ROWS[profile] ?? 20_000;
  const filler = Math.max(0, want - have);
  if (filler > 0) {
    await c.query(`CREATE TEMPORARY TABLE bench_src AS SELECT row_number() OVER (ORDER BY "ID") - 1 AS k, * FROM bench_detected`);
    await c.query(`CREATE UNIQUE INDEX ON bench_src (k)`);
    const maxCid = Number(
      (await c.query(`SELECT greatest((SELECT max("CONFLICTID") FROM ${CVM}), (SELECT max("CONFLICTID") FROM ${PARENTS}), 0) AS m`)).rows[0].m,
    );
    const base = maxCid + 1_000_000;
    const status = `(ARRAY['U','U','U','U','U','U','R','R','R','R','R','R','R','R','R','R','W','I','D','N'])[1 + g % 20]`;
    const back = `((730 + 30 + g % 1500) || ' days')::interval`;
    const ins = (col: string) => `CASE WHEN g % 100 = 7 THEN t.${q(col)} - ${back} END`;
    await time(
      `filler rows (to ${want.toLocaleString('en-US')})`,
      copyRows(
        cols,
        {
          CONFLICTID: `${base} + g / 2`,
          VisitID: `md5('bench-filler-v-' || g)::uuid`,
          ConVisitID: `md5('bench-filler-c-' || g)::uuid`,
          VisitDate: `t."VisitDate" - ${back}`,
          SchStartTime: `t."SchStartTime" - ${back}`,
          SchEndTime: `t."SchEndTime" - ${back}`,
          ConSchStartTime: `t."ConSchStartTime" - ${back}`,
          ConSchEndTime: `t."ConSchEndTime" - ${back}`,
          VisitStartTime: `t."VisitStartTime" - ${back}`,
          VisitEndTime: `t."VisitEndTime" - ${back}`,
          ConVisitStartTime: `t."ConVisitStartTime" - ${back}`,
          ConVisitEndTime: `t."ConVisitEndTime" - ${back}`,
          InserviceStartDate: ins('SchStartTime'),
          InserviceEndDate: ins('SchEndTime'),
          StatusFlag: status,
          CreatedDate: `t."CreatedDate" - ${back}`,
          CRDATEUNIQUE: `t."CreatedDate" - ${back}`,
          UpdatedDate: `CASE WHEN g % 3 = 0 THEN t."CreatedDate" - ${back} + interval '2 days' END`,
          ResolveDate: `CASE WHEN ${status} = 'R' THEN t."CreatedDate" - ${back} + interval '5 days' END`,
          ResolvedBy: `CASE WHEN ${status} = 'R' THEN 'history' END`,
        },
        `generate_series(1, ${filler}) g JOIN bench_src t ON t.k = g % ${detected}`,
      ),
    );
    await time(
      'filler parents (conflicts)',
      `INSERT INTO ${PARENTS} ("CONFLICTID", "CreatedDate") OVERRIDING SYSTEM VALUE
       SELECT ${base} + k, CURRENT_DATE - 800 FROM generate_series(0, ${Math.floor(filler / 2)}) k`,
    );
    await c.query(`SELECT setval(pg_get_serial_sequence($1, 'CONFLICTID'), (SELECT max("CONFLICTID") FROM ${PARENTS}))`, [`${S}."conflicts"`]);
  }
  await c.query('COMMIT');
  const t0 = performance.now();
  await c.query(`VACUUM ANALYZE ${CVM}`);
  await c.query(`VACUUM ANALYZE ${PARENTS}`);
  log(`  VACUUM ANALYZE: ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  const tableRows = Number((await c.query(`SELECT count(*) AS n FROM ${CVM}`)).rows[0].n);
  const ex = (await c.query(`SELECT (SELECT count(*) FROM ${S}."excluded_ssn") AS s, (SELECT count(*) FROM ${S}."excluded_agency") AS a`)).rows[0];
  return { tableRows, stale, excludedSsns: Number(ex.s), excludedAgencies: Number(ex.a) };
}

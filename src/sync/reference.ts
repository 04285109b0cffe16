// Reference data read from PostgreSQL before detection (detection.md, "Reference data"), and the
// run's bookkeeping in the target: the advisory lock and settings."InProgressFlag" (sync.md,
// "One run at a time").
import type pg from 'pg';
import type { MphBand } from '../detection/types.js';
import type { Logger } from '../log.js';
import { quoteIdent } from '../target/postgres.js';

/** A reference-data problem (missing settings row, NULL ExtraDistancePer): exit 1. */
export class ReferenceDataError extends Error {
  override readonly name = 'ReferenceDataError';
}

export interface ReferenceData {
  readonly excludedProviders: string[];
  readonly excludedSsns: string[];
  readonly mphBands: MphBand[];
  readonly extraDistancePer: number;
}

function table(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export async function readReferenceData(client: pg.Client, schema: string, log: Logger): Promise<ReferenceData> {
  const settings = await client.query<{ extra: number | null }>(
    `SELECT "ExtraDistancePer"::float8 AS extra FROM ${table(schema, 'settings')} ORDER BY "ID" LIMIT 1`,
  );
  if (settings.rowCount === 0) {
    throw new ReferenceDataError(`${schema}.settings has no row: ExtraDistancePer is required (init_db creates the row with 1.25)`);
  }
  const extra = settings.rows[0].extra;
  if (extra === null || !Number.isFinite(Number(extra))) {
    throw new ReferenceDataError(`${schema}.settings."ExtraDistancePer" is NULL: set it (for example 1.25) before running the job`);
  }

  const agencies = await client.query<{ id: string }>(
    `SELECT DISTINCT lower("ProviderID"::text) AS id FROM ${table(schema, 'excluded_agency')} WHERE "ProviderID" IS NOT NULL ORDER BY 1`,
  );
  const ssns = await client.query<{ ssn: string }>(
    `SELECT DISTINCT btrim("SSN") AS ssn FROM ${table(schema, 'excluded_ssn')} WHERE btrim("SSN") <> '' ORDER BY 1`,
  );
  const mph = await client.query<{ from: string | null; to: string | null; mph: number | null }>(
    `SELECT "From"::text AS "from", "To"::text AS "to", "AverageMilesPerHour"::float8 AS mph
       FROM ${table(schema, 'mph')} ORDER BY "From" NULLS LAST, "To" NULLS LAST, "ID"`,
  );
  const bands: MphBand[] = [];
  let ignored = 0;
  for (const r of mph.rows) {
    if (r.from === null || r.to === null || r.mph === null) ignored++;
    else bands.push({ from: Number(r.from), to: Number(r.to), mph: Number(r.mph) });
  }
  if (ignored) log.warn(`mph: ${ignored} row${ignored > 1 ? 's' : ''} with a NULL From, To or AverageMilesPerHour ignored`);
  if (bands.length === 0) log.warn('mph: no usable band: travel times are unknown and the distance rule (7) never fires');

  const data: ReferenceData = {
    excludedProviders: agencies.rows.map((r) => r.id),
    excludedSsns: ssns.rows.map((r) => r.ssn),
    mphBands: bands,
    extraDistancePer: Number(extra),
  };
  log.info(
    `Reference data: ${data.excludedProviders.length} excluded agencies, ${data.excludedSsns.length} excluded SSNs, ` +
      `${bands.length} MPH bands, ExtraDistancePer ${data.extraDistancePer}`,
  );
  return data;
}

/** The advisory lock key of a schema: one run per schema at a time. */
export function lockKey(schema: string): string {
  return `conflict-updater:${schema}`;
}

/** Try the session-level advisory lock of `schema`; false when another session holds it. */
export async function tryLock(client: pg.Client, schema: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [lockKey(schema)]);
  return r.rows[0].ok;
}

export async function unlock(client: pg.Client, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(schema)]);
}

/** settings."InProgressFlag": 1 while running, 0 after success, 2 after a failure or a stop. Autocommitted. */
export async function setInProgress(client: pg.Client, schema: string, value: 0 | 1 | 2): Promise<number> {
  const r = await client.query(`UPDATE ${table(schema, 'settings')} SET "InProgressFlag" = $1`, [value]);
  return r.rowCount ?? 0;
}

// Reference data read from PostgreSQL before detection (detection.md, "Reference data").
import type pg from 'pg';
import type { MphBand } from '../detection/types.js';
import type { Logger } from '../log.js';
import { postgresText } from '../sqlText.js';

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

const table = postgresText.qualified;

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

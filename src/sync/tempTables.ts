// Every temporary table of a sync: its name (in pg_temp, so never a table of the target schema)
// and, for the tables created with columns, its DDL. The tables made by CREATE … AS are created
// by the step that fills them, through createTempAs.
import { DETECTED_COLUMNS } from '../schema/columns.js';
import { postgresText } from '../sqlText.js';
import type { SyncDb } from './db.js';

const q = postgresText.ident;

export const TEMP = {
  /** Affected groups: one row per SSN with its dates (stage.ts). */
  groups: 'pg_temp.cu_groups',
  /** Scope visit ids (stage.ts). */
  scope: 'pg_temp.cu_scope',
  /** Rejected staged rows with their reason (validate.ts). */
  reject: 'pg_temp.cu_reject',
  /**
   * Detected rows: staged by COPY (stage.ts), typed where the precheck vouched for the row, else
   * as text in `raw`; after validation (validate.ts) every row typed, rejected ones reduced to
   * their keys.
   */
  detected: 'pg_temp.cu_detected',
  /** Each detected row against the CVM rows of its key (match.ts). */
  probe: 'pg_temp.cu_probe',
  /** Matched CVM rows (match.ts). */
  match: 'pg_temp.cu_match',
  /** Detected rows no CVM row has the key of (match.ts). */
  fresh: 'pg_temp.cu_new',
  /** One CONFLICTID per visit that gets an inserted or repaired row (conflictIds.ts). */
  visitCid: 'pg_temp.cu_visit_cid',
  /** The open CVM rows, taken at the start of the run (openRows.ts). */
  open: 'pg_temp.cu_open',
  /** The open rows' keys, packed for the warehouse (openRows.ts). */
  openKeys: 'pg_temp.cu_open_keys',
  /** The earliest CreatedDate of each CONFLICTID an insert uses (write.ts). */
  cidCreated: 'pg_temp.cu_cid_created',
  /** Stale rows to resolve (resolve.ts). */
  stale: 'pg_temp.cu_stale',
  /** Rows of excluded SSNs or agencies to resolve (resolve.ts). */
  excluded: 'pg_temp.cu_excluded',
  /** Dry run: the stored rows an update or repair may write, as they were (changes.ts). */
  stored: 'pg_temp.cu_stored',
} as const;

export type TempTable = (typeof TEMP)[keyof typeof TEMP];

/** `CREATE TEMPORARY TABLE <table> AS <select>`. */
export function createTempAs(table: TempTable, select: string): string {
  return `CREATE TEMPORARY TABLE ${table} AS ${select}`;
}

/**
 * Wide rows (200-odd columns, 2-4 KB) stay whole in their heap page instead of being compressed
 * or moved to the TOAST table from 2 KB on: writing and reading each value through TOAST cost
 * most of the staging COPY and of validation. Larger rows are still toasted.
 */
const INLINE = 'WITH (toast_tuple_target = 8160)';

/** DDL of the tables created with their columns. */
export const TEMP_DDL = {
  groups: `CREATE TEMPORARY TABLE ${TEMP.groups} (ssn text, dates date[])`,
  scope: `CREATE TEMPORARY TABLE ${TEMP.scope} (id uuid)`,
  reject: `CREATE TEMPORARY TABLE ${TEMP.reject} (rn bigint, col text, reason text, len int, visit_id text, con_visit_id text)`,
  // raw: the values, in DETECTED_COLUMNS order, of a row the precheck (precheck.ts) did not vouch
  // for; its typed columns stay NULL until validation has checked and cast them.
  detected: `CREATE TEMPORARY TABLE ${TEMP.detected} (rn bigint NOT NULL, rejected boolean NOT NULL DEFAULT false, raw text[], ${DETECTED_COLUMNS.map((c) => `${q(c.name)} ${c.pgType}`).join(', ')}) ${INLINE}`,
  // Packs of ~70 KB, read once: stored out of line without compression. Compressing them (the
  // default for CREATE … AS) cost 6 s of the 10 s the packing took at prod; without it, 3.9 s.
  // (ALTER rather than CREATE's STORAGE clause, which PostgreSQL 15 and older lack.)
  openKeys: [
    `CREATE TEMPORARY TABLE ${TEMP.openKeys} (pack bigint, ids text, groups text)`,
    `ALTER TABLE ${TEMP.openKeys} ALTER COLUMN ids SET STORAGE EXTERNAL, ALTER COLUMN groups SET STORAGE EXTERNAL`,
  ],
} as const;

/**
 * Session settings and the staging tables. Call first, on a session that has not used a
 * temporary table yet (temp_buffers can only be raised before that).
 */
export async function prepareSession(db: SyncDb): Promise<void> {
  await db.query(`SET temp_buffers = '256MB'`).catch(() => undefined);
  await db.query(`SET work_mem = '256MB'`);
  // Storage is SSD (RDS, a laptop): with the default random_page_cost of 4 the planner scanned
  // the whole wide conflictvisitmaps to match 20 K detected rows instead of probing its index.
  await db.query(`SET random_page_cost = 1.1`);
  await dropTempTables(db);
  await db.query(TEMP_DDL.detected);
  await db.query(TEMP_DDL.groups);
  await db.query(TEMP_DDL.scope);
}

/** Drop every temporary table (the session's end drops them too); runs even after a stop. */
export async function dropTempTables(db: SyncDb): Promise<void> {
  await db.client.query(`DROP TABLE IF EXISTS ${Object.values(TEMP).join(', ')}`);
}

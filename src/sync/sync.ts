// Sync (sync.md): detected rows, affected groups and scope visit ids travel by COPY into
// temporary tables; validation, matching, change detection, updates, inserts, CONFLICTID
// allocation and stale resolution are set-based SQL; every write to conflictvisitmaps and
// conflicts commits in one transaction after detection has been fully received.
import type pg from 'pg';
import { DETECTED_COLUMNS } from '../schema/columns.js';
import { formatCount, type Logger } from '../log.js';
import type { RunRecorder } from '../run/recorder.js';
import type { Shutdown } from '../run/shutdown.js';
import { postgresIdent as quoteIdent } from '../sqlText.js';
import type { WarehouseRow } from '../warehouse/warehouse.js';
import {
  castExpr,
  columnChecks,
  COMPARED_COLUMNS,
  DETECTED_NAMES,
  isOpen,
  notInServicePto,
  RULE_FLAGS,
  UPDATED_COLUMNS,
} from './columns.js';
import { copyField, copyIn, copyLine } from './copy.js';
import { rowPrecheck } from './precheck.js';

export interface SyncOptions {
  /** The target schema (conflict_<ENVIRONMENT> or POSTGRES_SCHEMA). */
  readonly schema: string;
  /** ENABLE_ASYMMETRIC_JOIN: comprehensive (true) or delta-only (false) scope. */
  readonly comprehensive: boolean;
  readonly skipUnchanged: boolean;
  readonly enableInsert: boolean;
  readonly enableStaleCleanup: boolean;
  readonly failOnRejects: boolean;
  readonly recorder: RunRecorder;
  readonly log: Logger;
  readonly shutdown?: Shutdown;
  /** How many rejected rows the log shows (default 10). */
  readonly rejectExamples?: number;
}

/** The counts of one sync; every write count is the number of rows the statement changed. */
export interface SyncStats {
  detected: number;
  rejected: number;
  matched: number;
  matchedRows: number;
  new: number;
  blockedByInServicePto: number;
  dirty: number;
  updated: number;
  updatedByFlag: number;
  updatedByColumn: number;
  reopened: number;
  clean: number;
  inserted: number;
  conflictIdsRepaired: number;
  conflictIdsReused: number;
  conflictIdsAllocated: number;
  parentsCreated: number;
  staleResolved: number;
  exclusionResolved: number;
  affectedGroups: number;
  scopeVisitIds: number;
}

/** FAIL_ON_REJECTS=true and some detected rows could not be stored: nothing was written. */
export class RejectsError extends Error {
  override readonly name = 'RejectsError';
}

/** The four hyphens of a UUID in the 36 characters of `s` from `at`. */
function uuidHyphensAt(s: string, at: number): boolean {
  return s.charCodeAt(at + 8) === 45 && s.charCodeAt(at + 13) === 45 && s.charCodeAt(at + 18) === 45 && s.charCodeAt(at + 23) === 45;
}
/** 36 characters with the four hyphens where a UUID has them. */
function looksLikeUuid(s: string): boolean {
  return s.length === 36 && uuidHyphensAt(s, 0);
}
/** Ids of 36 characters joined by commas, each with its hyphens where a UUID has them. */
function isUuidList(s: string): boolean {
  if ((s.length + 1) % 37 !== 0) return false;
  for (let at = 0; at < s.length; at += 37) {
    if (!uuidHyphensAt(s, at)) return false;
    if (at + 36 < s.length && s.charCodeAt(at + 36) !== 44) return false;
  }
  return true;
}

/** The COPY line of cu_groups for one SSN and its dates joined by commas. */
export function affectedGroupsLine(ssn: unknown, dates: string): string {
  return `${copyField(ssn)}\t{${dates}}\n`;
}

/** The COPY lines of cu_scope for ids joined by commas: one id per line. */
export function scopeIdLines(ids: string): string {
  return ids.replaceAll(',', '\n') + '\n';
}
const UUID_SQL = `'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;
const DUPLICATE = 'duplicate (VisitID, ConVisitID) among the detected rows';
const PROGRESS_MS = 5_000;
/** `YYYY-MM-DD` dates joined by commas (PostgreSQL checks that each is a real date). */
const DATE_LIST = /^\d{4}-\d{2}-\d{2}(?:,\d{4}-\d{2}-\d{2})*$/;

const q = quoteIdent;
const TEMP = {
  stage: 'pg_temp.cu_stage',
  reject: 'pg_temp.cu_reject',
  detected: 'pg_temp.cu_detected',
  groups: 'pg_temp.cu_groups',
  scope: 'pg_temp.cu_scope',
  probe: 'pg_temp.cu_probe',
  match: 'pg_temp.cu_match',
  fresh: 'pg_temp.cu_new',
  visitCid: 'pg_temp.cu_visit_cid',
  cidCreated: 'pg_temp.cu_cid_created',
  stale: 'pg_temp.cu_stale',
  rows: 'pg_temp.cu_rows',
  openIds: 'pg_temp.cu_open_ids',
  excluded: 'pg_temp.cu_excluded',
} as const;

function emptyStats(): SyncStats {
  return {
    detected: 0, rejected: 0, matched: 0, matchedRows: 0, new: 0, blockedByInServicePto: 0, dirty: 0, updated: 0,
    updatedByFlag: 0, updatedByColumn: 0, reopened: 0, clean: 0, inserted: 0, conflictIdsRepaired: 0,
    conflictIdsReused: 0, conflictIdsAllocated: 0, parentsCreated: 0, staleResolved: 0, exclusionResolved: 0,
    affectedGroups: 0, scopeVisitIds: 0,
  };
}

/** The dirtiness predicate of sync.md ("Update") between stored row `c` and detected row `d`. */
export function dirtyParts(c: string, d: string): { byFlag: string; byColumn: string; reopen: string } {
  return {
    byFlag: `(${RULE_FLAGS.map((f) => `(${c}.${q(f)} = 'N' AND ${d}.${q(f)} IS DISTINCT FROM 'N')`).join(' OR ')})`,
    byColumn: `(${COMPARED_COLUMNS.map((col) => `${c}.${q(col)} IS DISTINCT FROM ${d}.${q(col)}`).join(' OR ')})`,
    reopen: `(${c}."StatusFlag" = 'R' OR ${c}."StatusFlag" IS NULL)`,
  };
}

export class ConflictSync {
  readonly stats: SyncStats = emptyStats();
  private readonly cvm: string;
  private readonly conflicts: string;
  private groupsLoaded = false;
  private scopeLoaded = false;
  private detectedLoaded = false;
  private rowsLoaded = false;

  constructor(
    private readonly client: pg.Client,
    private readonly opts: SyncOptions,
  ) {
    this.cvm = `${q(opts.schema)}."conflictvisitmaps"`;
    this.conflicts = `${q(opts.schema)}."conflicts"`;
  }

  private get log(): Logger {
    return this.opts.log;
  }

  private async sql(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    this.opts.shutdown?.throwIfStopped();
    return this.client.query(text, params);
  }

  /**
   * Session settings and the staging tables. Call first, on a session that has not used a
   * temporary table yet (temp_buffers can only be raised before that).
   */
  async prepare(): Promise<void> {
    await this.sql(`SET temp_buffers = '256MB'`).catch(() => undefined);
    await this.sql(`SET work_mem = '256MB'`);
    // Storage is SSD (RDS, a laptop): with the default random_page_cost of 4 the planner scanned
    // the whole wide conflictvisitmaps to match 20 K detected rows instead of probing its index.
    await this.sql(`SET random_page_cost = 1.1`);
    await this.dropTemp();
    const cols = DETECTED_NAMES.map((n) => `${q(n)} text`).join(', ');
    // ok: the row passed the Node.js precheck (precheck.ts): validation's SQL checks skip it.
    await this.sql(`CREATE TEMPORARY TABLE ${TEMP.stage.slice(8)} (rn bigint, ok boolean, ${cols})`);
    await this.sql(`CREATE TEMPORARY TABLE ${TEMP.groups.slice(8)} (ssn text, dates date[])`);
    await this.sql(`CREATE TEMPORARY TABLE ${TEMP.scope.slice(8)} (id uuid)`);
  }

  /** Drop the temporary tables (the session's end drops them too). */
  async dropTemp(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${Object.values(TEMP).join(', ')}`);
  }

  private progress(step: string): (n: number) => void {
    let last = Date.now();
    return (n) => {
      const now = Date.now();
      if (now - last >= PROGRESS_MS) {
        last = now;
        this.log.info(`${step}: ${formatCount(n)} rows so far`);
      }
    };
  }

  /**
   * COPY a stream of warehouse batches into a temporary table: `encode` turns a batch into COPY
   * text (counting what it takes). Between batches: a stop check and the progress line.
   */
  private copyBatches(
    step: string,
    copySql: string,
    source: AsyncIterable<WarehouseRow[]>,
    encode: (batch: WarehouseRow[]) => string,
    counted: () => number,
  ): Promise<number> {
    const tick = this.progress(step);
    const shutdown = this.opts.shutdown;
    async function* gen(): AsyncGenerator<string> {
      for await (const batch of source) {
        shutdown?.throwIfStopped();
        const chunk = encode(batch);
        tick(counted());
        if (chunk) yield chunk;
      }
    }
    return copyIn(this.client, copySql, gen());
  }

  /**
   * Affected groups, one row per SSN [SSN, VisitDates joined by commas] → cu_groups (ssn, dates[]):
   * 12.5 M groups of production are 640 K lines.
   */
  async loadAffectedGroups(source: AsyncIterable<WarehouseRow[]>): Promise<number> {
    const step = 'Sync: affected groups (COPY)';
    const lines = await this.opts.recorder.step(
      step,
      async () => {
        let groups = 0;
        const encode = (batch: WarehouseRow[]): string => {
          let chunk = '';
          for (const [ssn, dates] of batch) {
            if (ssn === null || ssn === undefined || dates === null || dates === undefined || dates === '') continue;
            const list = String(dates);
            if (!DATE_LIST.test(list)) throw new Error(`an affected groups row has an invalid VisitDate list: ${list.slice(0, 80)}`);
            chunk += affectedGroupsLine(ssn, list);
            groups += (list.length + 1) / 11;
          }
          return chunk;
        };
        const n = await this.copyBatches(step, `COPY ${TEMP.groups} (ssn, dates) FROM STDIN`, source, encode, () => groups);
        this.stats.affectedGroups = groups;
        // No index: the resolve statement hash-joins it on the SSN.
        await this.sql(`ANALYZE ${TEMP.groups}`);
        return n;
      },
      () => ({ rows: this.stats.affectedGroups, unit: 'groups' }),
    );
    this.groupsLoaded = true;
    this.log.debug(`affected groups: ${formatCount(lines)} lines in ${TEMP.groups}`);
    return this.stats.affectedGroups;
  }

  /** Scope visit ids, rows [VisitIDs joined by commas] → cu_scope, one id per row (valid UUIDs only). */
  async loadScopeVisitIds(source: AsyncIterable<WarehouseRow[]>): Promise<number> {
    const step = 'Sync: scope visits (COPY)';
    let skipped = 0;
    const n = await this.opts.recorder.step(
      step,
      async () => {
        let rows = 0;
        const encode = (batch: WarehouseRow[]): string => {
          let chunk = '';
          for (const [packed] of batch) {
            if (typeof packed !== 'string' || packed === '') continue;
            // Detection sends valid UUIDs: a cheap shape check of the whole list, id by id only
            // when it fails, keeps anything else out of the COPY (PostgreSQL checks the digits).
            if (isUuidList(packed)) {
              chunk += scopeIdLines(packed);
              rows += (packed.length + 1) / 37;
              continue;
            }
            for (const id of packed.split(',')) {
              if (!looksLikeUuid(id)) {
                skipped++;
                continue;
              }
              chunk += id + '\n';
              rows++;
            }
          }
          return chunk;
        };
        const count = await this.copyBatches(step, `COPY ${TEMP.scope} (id) FROM STDIN`, source, encode, () => rows);
        // No index: the resolve statement hash-joins it (an index build would cost as much as the COPY).
        await this.sql(`ANALYZE ${TEMP.scope}`);
        return count;
      },
      (count) => ({ rows: count, unit: 'visit ids' }),
    );
    if (skipped) this.log.warn(`scope visits: ${formatCount(skipped)} ids that are not UUIDs left out`);
    this.stats.scopeVisitIds = n;
    this.scopeLoaded = true;
    return n;
  }

  /** Detected rows (DETECTED_COLUMNS order) → cu_stage, every value as text. */
  async loadDetectedRows(source: AsyncIterable<WarehouseRow[]>): Promise<number> {
    const step = 'Sync: staging (COPY)';
    const width = DETECTED_NAMES.length;
    const vouch = rowPrecheck(DETECTED_COLUMNS);
    const n = await this.opts.recorder.step(
      step,
      async () => {
        let rn = 0;
        const encode = (batch: WarehouseRow[]): string => {
          const lines = new Array<string>(batch.length);
          for (let i = 0; i < batch.length; i++) {
            const row = batch[i];
            if (row.length !== width) throw new Error(`a detected row has ${row.length} values, expected ${width} (DETECTED_COLUMNS)`);
            lines[i] = `${++rn}\t${vouch(row) ? 't' : 'f'}\t${copyLine(row)}`;
          }
          return lines.join('');
        };
        return this.copyBatches(step, `COPY ${TEMP.stage} FROM STDIN`, source, encode, () => rn);
      },
      (count) => ({ rows: count, unit: 'detected rows' }),
    );
    this.stats.detected = n;
    this.detectedLoaded = true;
    return n;
  }

  /**
   * Validate, then write everything in one transaction: update, CONFLICTID repair, insert,
   * parents, stale and exclusion resolution. A failure rolls the transaction back and rethrows.
   */
  async apply(): Promise<SyncStats> {
    if (!this.detectedLoaded) throw new Error('apply() before loadDetectedRows()');
    await this.validate();
    if (this.stats.rejected > 0 && this.opts.failOnRejects) {
      throw new RejectsError(
        `FAIL_ON_REJECTS: ${formatCount(this.stats.rejected)} detected row${this.stats.rejected > 1 ? 's' : ''} could not be stored; nothing was written`,
      );
    }
    this.opts.shutdown?.throwIfStopped();
    await this.client.query('BEGIN');
    try {
      await this.write();
      this.opts.shutdown?.throwIfStopped();
      await this.opts.recorder.step('Sync: commit', () => this.client.query('COMMIT'));
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.record();
    return this.stats;
  }

  // ---- validation -------------------------------------------------------------------------------

  private async validate(): Promise<void> {
    await this.opts.recorder.step(
      'Sync: validate',
      async () => {
        const v = await this.client.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`);
        const inputIsValid = Number(v.rows[0].n) >= 160000;
        // One CASE per row: the first column whose value cannot be stored names the reason. Rows
        // the precheck vouched for pass every one of these checks: they are skipped.
        const whens: string[] = [];
        for (const col of DETECTED_COLUMNS) {
          const ref = `s.${q(col.name)}`;
          for (const check of columnChecks(col, ref, inputIsValid)) {
            whens.push(
              `WHEN ${ref} IS NOT NULL AND ${check.invalid} THEN ARRAY[${lit(col.name)}, ${lit(check.reason)}, left(${ref}, 200)]`,
            );
          }
        }
        await this.sql(
          `CREATE TEMPORARY TABLE cu_reject AS
           SELECT x.rn, x.r[1] AS col, x.r[2] AS reason, x.r[3] AS value, x.visit_id, x.con_visit_id
             FROM (SELECT s.rn, s."VisitID" AS visit_id, s."ConVisitID" AS con_visit_id, CASE ${whens.join('\n')} END AS r
                     FROM ${TEMP.stage} s WHERE NOT s.ok) x
            WHERE x.r IS NOT NULL`,
        );
        // At most one row per key: later duplicates are rejected, the first one stands.
        await this.sql(
          `INSERT INTO ${TEMP.reject} (rn, col, reason, value, visit_id, con_visit_id)
           SELECT x.rn, 'VisitID, ConVisitID', ${lit(DUPLICATE)}, NULL, x.v, x.c
             FROM (SELECT s.rn, s."VisitID" AS v, s."ConVisitID" AS c,
                          row_number() OVER (PARTITION BY lower(s."VisitID"), lower(s."ConVisitID") ORDER BY s.rn) AS k
                     FROM ${TEMP.stage} s
                    WHERE ${uuidKeys('s')}) x
            WHERE x.k > 1 AND NOT EXISTS (SELECT 1 FROM ${TEMP.reject} r WHERE r.rn = x.rn)`,
        );
        await this.sql(`CREATE UNIQUE INDEX ON ${TEMP.reject} (rn)`);
        // Typed rows: every row whose keys are UUIDs. Rejected rows keep only their keys: they
        // count as detected (neither updated nor resolved) but are never written.
        const typedCols = DETECTED_COLUMNS.map((c) => `${q(c.name)} ${c.pgType}`).join(', ');
        await this.sql(`CREATE TEMPORARY TABLE cu_detected (rn bigint NOT NULL, rejected boolean NOT NULL, ${typedCols})`);
        const values = DETECTED_COLUMNS.map((c) => {
          const cast = castExpr(c, `s.${q(c.name)}`);
          return c.name === 'VisitID' || c.name === 'ConVisitID' ? cast : `CASE WHEN r.rn IS NULL THEN ${cast} END`;
        });
        await this.sql(
          `INSERT INTO ${TEMP.detected} (rn, rejected, ${DETECTED_NAMES.map(q).join(', ')})
           SELECT s.rn, r.rn IS NOT NULL, ${values.join(', ')}
             FROM ${TEMP.stage} s LEFT JOIN ${TEMP.reject} r ON r.rn = s.rn
            WHERE ${uuidKeys('s')}
              AND (r.reason IS NULL OR r.reason <> ${lit(DUPLICATE)})`,
        );
        await this.sql(`CREATE UNIQUE INDEX ON ${TEMP.detected} ("VisitID", "ConVisitID")`);
        await this.sql(`CREATE UNIQUE INDEX ON ${TEMP.detected} (rn)`);
        // Statistics of the columns the later statements join and filter on only: on all 200-odd
        // columns ANALYZE costs more than the rest of the validation.
        await this.sql(`ANALYZE ${TEMP.detected} (rn, rejected, "VisitID", "ConVisitID")`);
        await this.sql(`TRUNCATE ${TEMP.stage}`);
        await this.reportRejects();
      },
      () => ({ rows: this.stats.rejected, unit: 'rejected' }),
    );
  }

  private async reportRejects(): Promise<void> {
    const r = await this.client.query<{ col: string; reason: string; n: string; examples: Array<Record<string, string | null>> }>(
      `SELECT col, reason, count(*) AS n,
              (array_agg(json_build_object('VisitID', visit_id, 'ConVisitID', con_visit_id, 'value', value) ORDER BY rn))[1:5] AS examples
         FROM ${TEMP.reject} GROUP BY col, reason ORDER BY count(*) DESC, col, reason`,
    );
    let total = 0;
    for (const row of r.rows) {
      const count = Number(row.n);
      total += count;
      this.opts.recorder.rejects.push({
        reason: `${row.col}: ${row.reason}`,
        count,
        examples: row.examples.map((e) => ({
          VisitID: e.VisitID,
          ConVisitID: e.ConVisitID,
          column: row.col,
          ...(e.value === null ? {} : { value: e.value }),
        })),
      });
    }
    this.stats.rejected = total;
    if (total === 0) return;
    this.log.warn(
      `${formatCount(total)} detected row${total > 1 ? 's' : ''} rejected as invalid (left out of the write, counted as detected): ` +
        r.rows.map((row) => `${row.col}: ${row.reason} (${formatCount(Number(row.n))})`).join('; '),
    );
    const limit = this.opts.rejectExamples ?? 10;
    const first = await this.client.query<{ col: string; reason: string; value: string | null; visit_id: string; con_visit_id: string }>(
      `SELECT col, reason, value, visit_id, con_visit_id FROM ${TEMP.reject} ORDER BY rn LIMIT ${Number(limit)}`,
    );
    for (const e of first.rows) {
      this.log.warn(
        `  rejected: VisitID ${e.visit_id ?? 'NULL'}, ConVisitID ${e.con_visit_id ?? 'NULL'}: ${e.col} ${e.reason}` +
          (e.value === null ? '' : ` (${JSON.stringify(e.value.length > 60 ? `${e.value.slice(0, 60)}…` : e.value)})`),
      );
    }
  }

  // ---- the write transaction --------------------------------------------------------------------

  private async write(): Promise<void> {
    const { recorder } = this.opts;
    const s = this.stats;
    await recorder.step('Sync: match', () => this.match(), () => ({ rows: s.matchedRows, unit: 'matched rows' }));
    await recorder.step('Sync: conflict ids', () => this.conflictIds(), () => ({
      rows: s.conflictIdsReused + s.conflictIdsAllocated,
      unit: 'visits',
    }));
    await recorder.step('Sync: update', () => this.update(), () => ({ rows: s.updated, unit: 'rows updated' }));
    await recorder.step('Sync: repair conflict ids', () => this.repair(), () => ({ rows: s.conflictIdsRepaired, unit: 'rows repaired' }));
    if (this.opts.enableInsert) {
      await recorder.step('Sync: insert', () => this.insert(), () => ({ rows: s.inserted, unit: 'rows inserted' }));
    }
    await recorder.step('Sync: parents', () => this.parents(), () => ({ rows: s.parentsCreated, unit: 'conflicts created' }));
    if (this.opts.enableStaleCleanup) {
      await recorder.step('Sync: resolve stale', () => this.resolveStale(), () => ({ rows: s.staleResolved, unit: 'rows resolved' }));
      await recorder.step('Sync: resolve exclusions', () => this.resolveExclusions(), () => ({
        rows: s.exclusionResolved,
        unit: 'rows resolved',
      }));
    }
  }

  private async match(): Promise<void> {
    const p = dirtyParts('c', 'd');
    // One probe of the ("VisitID", "ConVisitID") index per detected row gives both the matched
    // rows and the new keys (no CVM row at all has the key: an InService/PTO row blocks the insert).
    await this.sql(
      `CREATE TEMPORARY TABLE ${TEMP.probe.slice(8)} AS
       SELECT c."ID" AS cvm_id, d.rn, d."VisitID" AS visit_id, ${notInServicePto('c')} AS usable, c."CONFLICTID" IS NULL AS no_cid,
              ${p.byFlag} AS by_flag, ${p.byColumn} AS by_column, ${p.reopen} AS reopen
         FROM ${TEMP.detected} d
         LEFT JOIN ${this.cvm} c ON c."VisitID" = d."VisitID" AND c."ConVisitID" = d."ConVisitID"
        WHERE NOT d.rejected`,
    );
    await this.sql(
      `CREATE TEMPORARY TABLE cu_match AS
       SELECT cvm_id, rn, visit_id, no_cid, by_flag, by_column, reopen FROM ${TEMP.probe} WHERE cvm_id IS NOT NULL AND usable`,
    );
    await this.sql(`ANALYZE ${TEMP.match}`);
    await this.sql(`CREATE TEMPORARY TABLE cu_new AS SELECT rn, visit_id FROM ${TEMP.probe} WHERE cvm_id IS NULL`);
    await this.sql(`ANALYZE ${TEMP.fresh}`);
    const dirty = this.opts.skipUnchanged ? '(by_flag OR by_column OR reopen)' : 'true';
    const r = await this.client.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM ${TEMP.match}) AS rows,
              (SELECT count(DISTINCT rn) FROM ${TEMP.match}) AS matched,
              (SELECT count(*) FROM ${TEMP.match} WHERE ${dirty}) AS dirty,
              (SELECT count(*) FROM ${TEMP.fresh}) AS fresh,
              (SELECT count(*) FROM ${TEMP.detected} WHERE NOT rejected) AS valid`,
    );
    const row = r.rows[0];
    const s = this.stats;
    s.matchedRows = Number(row.rows);
    s.matched = Number(row.matched);
    s.dirty = Number(row.dirty);
    s.new = Number(row.fresh);
    s.blockedByInServicePto = Number(row.valid) - s.matched - s.new;
  }

  /**
   * One CONFLICTID per visit that gets an inserted or repaired row: the smallest existing one of
   * the visit (any row), else new ids consecutive from the largest in either table, in VisitID order.
   */
  private async conflictIds(): Promise<void> {
    const sources = [`SELECT visit_id FROM ${TEMP.match} WHERE no_cid`];
    if (this.opts.enableInsert) sources.push(`SELECT visit_id FROM ${TEMP.fresh}`);
    await this.sql(
      `CREATE TEMPORARY TABLE cu_visit_cid AS
       SELECT v.visit_id, (SELECT min(c."CONFLICTID") FROM ${this.cvm} c WHERE c."VisitID" = v.visit_id) AS cid, false AS allocated
         FROM (${sources.join(' UNION ')}) v`,
    );
    const missing = await this.sql(`SELECT count(*) AS n FROM ${TEMP.visitCid} WHERE cid IS NULL`);
    const toAllocate = Number(missing.rows[0].n);
    // The pass over conflictvisitmaps (its largest CONFLICTID, the rows of the reused ones, the
    // rows resolution may touch): now, while the reused CONFLICTIDs are the only ones set.
    if (toAllocate > 0 || this.opts.enableStaleCleanup || this.opts.enableInsert) await this.targetRows();
    if (toAllocate > 0) {
      const r = await this.sql(
        `WITH base AS (
           SELECT greatest(coalesce((SELECT max(t."CONFLICTID") FROM ${TEMP.rows} t), 0),
                           coalesce((SELECT max("CONFLICTID") FROM ${this.conflicts}), 0)) AS b
         ), numbered AS (
           SELECT v.visit_id, row_number() OVER (ORDER BY v.visit_id::text) AS k FROM ${TEMP.visitCid} v WHERE v.cid IS NULL
         )
         UPDATE ${TEMP.visitCid} v SET cid = base.b + numbered.k, allocated = true
           FROM numbered, base WHERE v.visit_id = numbered.visit_id`,
      );
      this.stats.conflictIdsAllocated = r.rowCount ?? 0;
    }
    const reused = await this.sql(`SELECT count(*) AS n FROM ${TEMP.visitCid} WHERE NOT allocated`);
    this.stats.conflictIdsReused = Number(reused.rows[0].n);
    await this.sql(`CREATE UNIQUE INDEX ON ${TEMP.visitCid} (visit_id)`);
    await this.sql(`ANALYZE ${TEMP.visitCid}`);
  }

  private async update(): Promise<void> {
    if (this.stats.matchedRows === 0) return;
    const p = dirtyParts('c', 'd');
    const reopen = p.reopen;
    const sets = [
      ...UPDATED_COLUMNS.map((n) => `${q(n)} = d.${q(n)}`),
      ...RULE_FLAGS.map((f) => `${q(f)} = CASE WHEN c.${q(f)} = 'N' THEN d.${q(f)} ELSE c.${q(f)} END`),
      `"StatusFlag" = CASE WHEN ${reopen} THEN 'U' ELSE c."StatusFlag" END`,
      `"ResolveDate" = CASE WHEN ${reopen} THEN NULL ELSE c."ResolveDate" END`,
      `"ResolvedBy" = CASE WHEN ${reopen} THEN NULL ELSE c."ResolvedBy" END`,
      `"UpdateFlag" = NULL`,
      `"UpdatedDate" = CURRENT_TIMESTAMP`,
      // the CONFLICTID repair of a dirty row happens in the same write
      `"CONFLICTID" = coalesce(c."CONFLICTID", v.cid)`,
    ];
    const where = this.opts.skipUnchanged ? `AND (${p.byFlag} OR ${p.byColumn} OR ${reopen})` : '';
    const r = await this.sql(
      `WITH u AS (
         UPDATE ${this.cvm} c SET ${sets.join(', ')}
           FROM ${TEMP.match} m
           JOIN ${TEMP.detected} d ON d.rn = m.rn
           LEFT JOIN ${TEMP.visitCid} v ON v.visit_id = m.visit_id
          WHERE c."ID" = m.cvm_id ${where}
         RETURNING m.by_flag, m.by_column, m.reopen, m.no_cid AND v.cid IS NOT NULL AS repaired
       )
       SELECT count(*) AS n, count(*) FILTER (WHERE by_flag) AS by_flag, count(*) FILTER (WHERE by_column) AS by_column,
              count(*) FILTER (WHERE reopen) AS reopen, count(*) FILTER (WHERE repaired) AS repaired
         FROM u`,
    );
    const row = r.rows[0];
    const s = this.stats;
    s.updated = Number(row.n);
    s.updatedByFlag = Number(row.by_flag);
    s.updatedByColumn = Number(row.by_column);
    s.reopened = Number(row.reopen);
    s.conflictIdsRepaired += Number(row.repaired);
  }

  /** Clean matched rows whose CONFLICTID is NULL: only the CONFLICTID changes. */
  private async repair(): Promise<void> {
    const r = await this.sql(
      `UPDATE ${this.cvm} c SET "CONFLICTID" = v.cid
         FROM ${TEMP.match} m JOIN ${TEMP.visitCid} v ON v.visit_id = m.visit_id
        WHERE c."ID" = m.cvm_id AND m.no_cid AND c."CONFLICTID" IS NULL AND v.cid IS NOT NULL`,
    );
    this.stats.conflictIdsRepaired += r.rowCount ?? 0;
  }

  private async insert(): Promise<void> {
    if (this.stats.new === 0) return;
    // The identity may lag behind MAX("ID") (rows written with explicit ids): advance it first.
    await this.advanceSequence(this.cvm, 'ID', `SELECT max("ID") FROM ${this.cvm}`);
    // CRDATEUNIQUE: the earliest CreatedDate among the rows of the CONFLICTID, the new row included.
    // (A reused CONFLICTID's rows are all in cu_rows; an allocated one has none yet.)
    await this.sql(
      `CREATE TEMPORARY TABLE cu_cid_created AS
       SELECT t."CONFLICTID" AS cid, min(t."CreatedDate") AS created
         FROM ${TEMP.rows} t
        WHERE t."CONFLICTID" IN (SELECT v.cid FROM ${TEMP.visitCid} v WHERE NOT v.allocated AND v.visit_id IN (SELECT visit_id FROM ${TEMP.fresh}))
        GROUP BY t."CONFLICTID"`,
    );
    const cols = DETECTED_NAMES.map(q);
    const r = await this.sql(
      `INSERT INTO ${this.cvm} (${cols.join(', ')}, "CONFLICTID", "StatusFlag", "InServiceFlag", "PTOFlag", "CreatedDate", "CRDATEUNIQUE")
       SELECT ${cols.map((c) => `d.${c}`).join(', ')}, v.cid, 'U', 'N', 'N', CURRENT_TIMESTAMP, least(CURRENT_TIMESTAMP, e.created)
         FROM ${TEMP.fresh} n
         JOIN ${TEMP.detected} d ON d.rn = n.rn
         JOIN ${TEMP.visitCid} v ON v.visit_id = n.visit_id
         LEFT JOIN ${TEMP.cidCreated} e ON e.cid = v.cid
        ORDER BY d."VisitID", d."ConVisitID"`,
    );
    this.stats.inserted = r.rowCount ?? 0;
  }

  /** A parent `conflicts` row for every CONFLICTID given to an inserted or repaired row; then the sequence. */
  private async parents(): Promise<void> {
    const r = await this.sql(
      `INSERT INTO ${this.conflicts} ("CONFLICTID", "CreatedDate") OVERRIDING SYSTEM VALUE
       SELECT DISTINCT v.cid, CURRENT_DATE::timestamp
         FROM ${TEMP.visitCid} v
        WHERE v.cid IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ${this.conflicts} p WHERE p."CONFLICTID" = v.cid)
        ORDER BY v.cid`,
    );
    this.stats.parentsCreated = r.rowCount ?? 0;
    if (this.stats.conflictIdsAllocated > 0 || this.stats.parentsCreated > 0) {
      await this.advanceSequence(this.conflicts, 'CONFLICTID', `SELECT max(cid) FROM ${TEMP.visitCid}`);
    }
  }

  /** Move the sequence behind `table`.`column` to `maxSql`'s value when it lags behind. */
  private async advanceSequence(table: string, column: string, maxSql: string): Promise<void> {
    const seq = await this.sql(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [table, column]);
    const name = seq.rows[0]?.seq as string | null;
    if (!name) return;
    await this.sql(
      `SELECT setval($1::regclass, m) FROM (${maxSql}) AS x(m)
        WHERE m IS NOT NULL AND m > coalesce(pg_sequence_last_value($1::regclass), 0)`,
      [name],
    );
  }

  private resolveSet(): string {
    return `"StatusFlag" = 'R', "UpdatedDate" = CURRENT_TIMESTAMP,
            "ResolveDate" = coalesce(c."ResolveDate", CURRENT_TIMESTAMP),
            "ResolvedBy" = coalesce(c."ResolvedBy", c."ConAgencyContact", c."ConProviderName")`;
  }

  /** Open, not InService/PTO, CONFLICTID set: what resolution may touch. */
  private resolvable(alias: string): string {
    return `${isOpen(alias)} AND ${notInServicePto(alias)} AND ${alias}."CONFLICTID" IS NOT NULL`;
  }

  /**
   * The one pass over conflictvisitmaps (wide: each full scan reads all of it), into a narrow,
   * analysed temporary table cu_rows of
   * - the rows resolution may touch (`open`: open, not InService/PTO, CONFLICTID set, not detected
   *   by this run; the writes before resolution change detected rows only, so it stays true),
   * - every row of a CONFLICTID this run reuses (CRDATEUNIQUE of the rows it inserts),
   * - every row whose CONFLICTID is at least the largest parent's: with the parents' maximum, the
   *   largest CONFLICTID of either table, from which new ones are allocated.
   * Needs cu_visit_cid with the reused CONFLICTIDs only (before allocation).
   */
  private async targetRows(): Promise<void> {
    if (this.rowsLoaded) return;
    // Not detected: an anti-join written as a LEFT JOIN (a NOT EXISTS under OR would run once per row).
    const open = `${this.resolvable('c')} AND d.rn IS NULL`;
    await this.sql(
      `CREATE TEMPORARY TABLE ${TEMP.rows.slice(8)} AS
       SELECT c."ID", c."VisitID", c."ConVisitID", btrim(c."SSN") AS ssn, c."VisitDate", c."ProviderID", c."ConProviderID",
              c."CONFLICTID", c."CreatedDate", coalesce(${open}, false) AS open
         FROM ${this.cvm} c
         LEFT JOIN ${TEMP.detected} d ON d."VisitID" = c."VisitID" AND d."ConVisitID" = c."ConVisitID"
        WHERE (${open})
           OR c."CONFLICTID" >= (SELECT coalesce(max(p."CONFLICTID"), 0) FROM ${this.conflicts} p)
           OR c."CONFLICTID" IN (SELECT v.cid FROM ${TEMP.visitCid} v WHERE v.cid IS NOT NULL)`,
    );
    await this.sql(`ANALYZE ${TEMP.rows}`);
    this.rowsLoaded = true;
  }

  /** Resolve the rows of `ids` (a temporary table of "ID"s), re-checking that each is still open. */
  private async resolveIds(ids: string): Promise<number> {
    await this.sql(`CREATE UNIQUE INDEX ON ${ids} ("ID")`);
    await this.sql(`ANALYZE ${ids}`);
    const r = await this.sql(
      `UPDATE ${this.cvm} c SET ${this.resolveSet()}
         FROM ${ids} st
        WHERE c."ID" = st."ID" AND ${this.resolvable('c')}`,
    );
    return r.rowCount ?? 0;
  }

  private async resolveStale(): Promise<void> {
    const parts: string[] = [];
    if (this.opts.comprehensive) {
      if (this.groupsLoaded) {
        parts.push(`SELECT o."ID" FROM ${TEMP.rows} o JOIN ${TEMP.groups} g ON g.ssn = o.ssn WHERE o.open AND o."VisitDate" = ANY (g.dates)`);
      }
      if (this.scopeLoaded) {
        // Both ids of a row against the scope in one join: one pass over cu_scope (millions of
        // ids), hashing the open rows' ids, from an analysed table: over a UNION ALL subquery the
        // planner knew nothing of their distinct values and hashed the scope instead.
        parts.push(`SELECT k."ID" FROM ${TEMP.openIds} k JOIN ${TEMP.scope} s ON s.id = k.id`);
      }
    } else if (this.scopeLoaded) {
      parts.push(
        `SELECT o."ID" FROM ${TEMP.rows} o
           JOIN ${TEMP.scope} s1 ON s1.id = o."VisitID" JOIN ${TEMP.scope} s2 ON s2.id = o."ConVisitID"
          WHERE o.open`,
      );
    }
    if (parts.length === 0) return;
    await this.targetRows();
    if (this.opts.comprehensive && this.scopeLoaded) {
      await this.sql(
        `CREATE TEMPORARY TABLE ${TEMP.openIds.slice(8)} AS
         SELECT o."ID", o."VisitID" AS id FROM ${TEMP.rows} o WHERE o.open
         UNION ALL SELECT o."ID", o."ConVisitID" FROM ${TEMP.rows} o WHERE o.open`,
      );
      await this.sql(`ANALYZE ${TEMP.openIds}`);
    }
    // The rows in scope into an indexed, analysed temporary table first: as a subquery of the
    // UPDATE it was rescanned once per CVM row whenever the table's statistics lagged behind its
    // content (rows this transaction inserted, a table not analysed since a bulk load).
    await this.sql(`CREATE TEMPORARY TABLE ${TEMP.stale.slice(8)} AS ${parts.join('\n UNION \n')}`);
    this.stats.staleResolved = await this.resolveIds(TEMP.stale);
  }

  /** Open rows of an excluded SSN (trimmed) or agency (either side) are resolved, whatever the scope. */
  private async resolveExclusions(): Promise<void> {
    const schema = q(this.opts.schema);
    const ssns = `SELECT btrim(e."SSN") FROM ${schema}."excluded_ssn" e WHERE btrim(e."SSN") <> ''`;
    const agencies = `SELECT a."ProviderID" FROM ${schema}."excluded_agency" a WHERE a."ProviderID" IS NOT NULL`;
    const any = await this.sql(`SELECT EXISTS (${ssns}) AS s, EXISTS (${agencies}) AS a`);
    const parts: string[] = [];
    if (any.rows[0].s) parts.push(`SELECT o."ID" FROM ${TEMP.rows} o WHERE o.open AND o.ssn IN (${ssns})`);
    if (any.rows[0].a) {
      parts.push(`SELECT o."ID" FROM ${TEMP.rows} o WHERE o.open AND o."ProviderID" IN (${agencies})`);
      parts.push(`SELECT o."ID" FROM ${TEMP.rows} o WHERE o.open AND o."ConProviderID" IN (${agencies})`);
    }
    if (parts.length === 0) return;
    await this.targetRows();
    await this.sql(`CREATE TEMPORARY TABLE ${TEMP.excluded.slice(8)} AS ${parts.join('\n UNION \n')}`);
    this.stats.exclusionResolved = await this.resolveIds(TEMP.excluded);
  }

  private record(): void {
    const s = this.stats;
    s.clean = s.matchedRows - s.updated;
    const r = this.opts.recorder;
    for (const [k, v] of Object.entries(s)) r.set(k, v);
  }
}

/** Both keys of staged row `alias` are UUIDs (the precheck vouches for that, the pattern otherwise). */
function uuidKeys(alias: string): string {
  return `(${alias}.ok OR (${alias}."VisitID" ~ ${UUID_SQL} AND ${alias}."ConVisitID" ~ ${UUID_SQL}))`;
}

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

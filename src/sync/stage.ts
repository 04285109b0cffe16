// Staging (sync.md, "All or nothing", "Stale resolution"): the three streams of detection travel
// by COPY into the temporary tables of tempTables.ts. Each function returns what it staged.
import { DETECTED_COLUMNS } from '../schema/columns.js';
import type { Progress } from '../run/progress.js';
import { postgresText } from '../sqlText.js';
import type { WarehouseRow } from '../warehouse/warehouse.js';
import { DETECTED_NAMES } from './columns.js';
import { COPY_NULL, copyField, copyIn, copyTextArray } from './copy.js';
import type { SyncDb } from './db.js';
import { rowEncoder } from './precheck.js';
import { TEMP } from './tempTables.js';

export interface StagedGroups {
  /** (SSN, VisitDate) groups received and stored. */
  readonly groups: number;
  /** Lines COPY stored: one per SSN. */
  readonly lines: number;
}

export interface StagedScope {
  /** Visit ids received and stored (UUIDs). */
  readonly ids: number;
  /** Ids left out because they are not UUIDs. */
  readonly skipped: number;
}

export interface StagedRows {
  readonly rows: number;
  /** Rows the precheck did not vouch for, staged as text for validation to check (normally none). */
  readonly unvouched: number;
}

/** `YYYY-MM-DD` dates joined by commas (PostgreSQL checks that each is a real date). */
const DATE_LIST = /^\d{4}-\d{2}-\d{2}(?:,\d{4}-\d{2}-\d{2})*$/;

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

/** A batch as COPY text, and how many units (groups, ids, rows) it received. */
interface Encoded {
  readonly text: string;
  readonly units: number;
}

const DATE_LENGTH = 10;
const UUID_LENGTH = 36;

/** COPY a stream of batches: between batches a stop check and a progress tick. */
function copyBatches(db: SyncDb, copySql: string, source: AsyncIterable<WarehouseRow[]>, encode: (batch: WarehouseRow[]) => Encoded, progress: Progress): Promise<number> {
  async function* chunks(): AsyncGenerator<string> {
    for await (const batch of source) {
      db.throwIfStopped();
      const { text, units } = encode(batch);
      progress.tick(units);
      if (text) yield text;
    }
  }
  return copyIn(db.client, copySql, chunks());
}

/**
 * Affected groups, one row per SSN [SSN, VisitDates joined by commas] → cu_groups (ssn, dates[]):
 * the groups of open rows, which the warehouse kept (openKeys.ts).
 */
export async function stageAffectedGroups(db: SyncDb, source: AsyncIterable<WarehouseRow[]>, progress: Progress): Promise<StagedGroups> {
  let groups = 0;
  const encode = (batch: WarehouseRow[]): Encoded => {
    let text = '';
    let units = 0;
    for (const [ssn, dates] of batch) {
      if (ssn === null || ssn === undefined || dates === null || dates === undefined || dates === '') continue;
      const list = String(dates);
      if (!DATE_LIST.test(list)) throw new Error(`an affected groups row has an invalid VisitDate list: ${list.slice(0, 80)}`);
      units += (list.length + 1) / (DATE_LENGTH + 1);
      text += affectedGroupsLine(ssn, list);
    }
    groups += units;
    return { text, units };
  };
  const lines = await copyBatches(db, `COPY ${TEMP.groups} (ssn, dates) FROM STDIN`, source, encode, progress);
  // No index: the resolve statement hash-joins it on the SSN.
  await db.query(`ANALYZE ${TEMP.groups}`);
  return { groups, lines };
}

/**
 * Scope visit ids, rows [VisitIDs joined by commas] → cu_scope, one id per row (valid UUIDs
 * only): the ids of open rows, which the warehouse kept (openKeys.ts).
 */
export async function stageScopeIds(db: SyncDb, source: AsyncIterable<WarehouseRow[]>, progress: Progress): Promise<StagedScope> {
  let skipped = 0;
  const encode = (batch: WarehouseRow[]): Encoded => {
    let text = '';
    let units = 0;
    for (const [packed] of batch) {
      if (typeof packed !== 'string' || packed === '') continue;
      // The warehouse's text is not trusted: a cheap shape check of the whole list, id by id only
      // when it fails, keeps anything but UUIDs out of the COPY (PostgreSQL checks the digits, in
      // either case).
      if (isUuidList(packed)) {
        text += scopeIdLines(packed);
        units += (packed.length + 1) / (UUID_LENGTH + 1);
        continue;
      }
      for (const id of packed.split(',')) {
        if (looksLikeUuid(id)) {
          text += id + '\n';
          units++;
        } else skipped++;
      }
    }
    return { text, units };
  };
  const ids = await copyBatches(db, `COPY ${TEMP.scope} (id) FROM STDIN`, source, encode, progress);
  // No index: the resolve statement hash-joins it.
  await db.query(`ANALYZE ${TEMP.scope}`);
  return { ids, skipped };
}

/**
 * Detected rows (DETECTED_COLUMNS order) → cu_detected, numbered from 1: straight into their typed
 * columns when the precheck vouches for the row (PostgreSQL's input functions then accept every
 * value), else as text in `raw`, for validation to check and cast.
 */
export async function stageDetectedRows(db: SyncDb, source: AsyncIterable<WarehouseRow[]>, progress: Progress): Promise<StagedRows> {
  const width = DETECTED_COLUMNS.length;
  const vouched = rowEncoder(DETECTED_COLUMNS);
  const typedNulls = `${COPY_NULL}\t`.repeat(width - 1) + `${COPY_NULL}\n`;
  let rn = 0;
  let unvouched = 0;
  const encode = (batch: WarehouseRow[]): Encoded => {
    const lines = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const row = batch[i];
      if (row.length !== width) throw new Error(`a detected row has ${row.length} values, expected ${width} (DETECTED_COLUMNS)`);
      const typed = vouched(row);
      if (typed !== undefined) lines[i] = `${++rn}\t${COPY_NULL}\t${typed}\n`;
      else {
        unvouched++;
        lines[i] = `${++rn}\t${copyTextArray(row)}\t${typedNulls}`;
      }
    }
    return { text: lines.join(''), units: batch.length };
  };
  const columns = ['rn', 'raw', ...DETECTED_NAMES.map(postgresText.ident)].join(', ');
  const rows = await copyBatches(db, `COPY ${TEMP.detected} (${columns}) FROM STDIN`, source, encode, progress);
  return { rows, unvouched };
}

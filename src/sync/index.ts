// Sync (sync.md): the streams of detection are staged by COPY into temporary tables, then merged
// into conflictvisitmaps and conflicts by set-based statements in one transaction, committed
// after detection has been fully received. The order of the merge is the order of sync.md; each
// step is a module named by its verb, and passes what a later step needs as a value.
import type pg from 'pg';
import type { DetectionRun } from '../detection/types.js';
import { formatCount, type Logger } from '../log.js';
import type { RunStatistics } from '../report/statistics.js';
import { withProgress, type Progress } from '../run/progress.js';
import type { DryRunChanges, RunRecorder } from '../run/recorder.js';
import type { Shutdown } from '../run/shutdown.js';
import { keepStoredRows, writeChanges } from './changes.js';
import { allocateConflictIds, collectConflictIds, indexConflictIds } from './conflictIds.js';
import { syncDb, targetTables, type SyncDb, type TargetTables } from './db.js';
import { matchDetected } from './match.js';
import { snapshotOpenRows, type OpenRows } from './openRows.js';
import { resolveExclusions, resolveStale } from './resolve.js';
import { stageAffectedGroups, stageDetectedRows, stageScopeIds, type StagedGroups, type StagedRows, type StagedScope } from './stage.js';
import { dropTempTables, prepareSession, TEMP } from './tempTables.js';
import { logRejects, rejectsError, validate, type Validation } from './validate.js';
import { createParents, insertNew, repairConflictIds, updateMatched, type NewIds, type Updates } from './write.js';

export { RejectsError } from './validate.js';
export { CHANGE_FIELDS, CHANGE_OUTCOMES, CHANGES_FILE_MODE, countChanges, readChanges, type ChangeLine, type ChangeOutcome } from './changes.js';
export { affectedGroupsLine, scopeIdLines } from './stage.js';

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
  /** DRY_RUN: every statement runs, then the transaction rolls back; the changes go to this file. */
  readonly dryRun?: DryRun;
}

/** A dry run (operations.md, "Dry run"): where its changes file goes. */
export interface DryRun {
  readonly changesPath: string;
}

/** The statistics a sync records; every write count is the number of rows the statement changed. */
export type SyncStats = Pick<
  RunStatistics,
  | 'detected' | 'rejected' | 'matched' | 'matchedRows' | 'new' | 'blockedByInServicePto' | 'dirty' | 'updated'
  | 'updatedByFlag' | 'updatedByColumn' | 'reopened' | 'clean' | 'inserted' | 'conflictIdsRepaired' | 'conflictIdsReused'
  | 'conflictIdsAllocated' | 'parentsCreated' | 'staleResolved' | 'exclusionResolved' | 'affectedGroupsReceived' | 'scopeVisitIds'
>;

/** What staging asks of a detection run: the open keys sent up, then its streams pulled as the options need them. */
export type DetectionStreams = Pick<DetectionRun, 'sendOpenKeys' | 'affectedGroups' | 'scopeVisitIds' | 'detectedRows'>;

/** A sync on one PostgreSQL session. */
export interface Sync {
  readonly db: SyncDb;
  readonly tables: TargetTables;
  readonly options: SyncOptions;
  /** With stale cleanup: the open rows, being taken while the warehouse computes. */
  readonly openRows: Promise<OpenRows> | undefined;
}

/** What staging stored: groups and scope only when stale resolution needs them. */
export interface Staged {
  readonly groups: StagedGroups | undefined;
  readonly scope: StagedScope | undefined;
  readonly detected: StagedRows;
  readonly openRows: OpenRows | undefined;
}

/**
 * Session settings and staging tables, on a session that has not used a temporary table yet.
 * With stale cleanup, the open rows are then taken in the background (openRows.ts): call this
 * before detection, so that PostgreSQL reads them while the warehouse computes.
 */
export async function openSync(client: pg.Client, options: SyncOptions): Promise<Sync> {
  const db = syncDb(client, options.shutdown);
  const tables = targetTables(options.schema);
  await prepareSession(db);
  let openRows: Promise<OpenRows> | undefined;
  if (options.enableStaleCleanup) {
    openRows = options.recorder.step(
      'Sync: open rows',
      () => snapshotOpenRows(db, tables, { groups: options.comprehensive }),
      (r) => ({ rows: r.rows, unit: 'open rows (taken while the warehouse computes)' }),
    );
    // Awaited by stage(); a run that fails before staging has its own error to report.
    openRows.catch(() => undefined);
  }
  return { db, tables, options, openRows };
}

/** Drop the temporary tables (the session's end drops them too). */
export function closeSync(sync: Sync): Promise<void> {
  return dropTempTables(sync.db);
}

/** One timed step that streams, with its progress (a bar on a terminal, lines otherwise). */
function streamStep<T>(sync: Sync, name: string, unit: string, fn: (p: Progress) => Promise<T>, rows: (r: T) => number): Promise<T> {
  const { recorder, log } = sync.options;
  return recorder.step(name, () => withProgress(log, name, fn, { unit }), (r) => ({ rows: rows(r), unit }));
}

/**
 * Stage detection's streams: with stale cleanup, the open rows' keys go to the warehouse first;
 * then the affected groups (comprehensive stale scope) and scope visit ids that reach an open row,
 * and the detected rows. Detection is fully received when this returns.
 */
export async function stage(sync: Sync, streams: DetectionStreams): Promise<Staged> {
  const { db, options: o } = sync;
  let groups: StagedGroups | undefined;
  let scope: StagedScope | undefined;
  const open = await sync.openRows;
  // The warehouse keeps only the groups and ids that reach an open row: the rest cannot change
  // anything (sync.md, "Stale resolution": reduce the scope first in the warehouse).
  if (open) await streams.sendOpenKeys(open.keys);
  if (open && o.comprehensive) {
    groups = await streamStep(sync, 'Sync: affected groups (COPY)', 'groups', (p) => stageAffectedGroups(db, streams.affectedGroups(), p), (g) => g.groups);
    o.log.info(`Sync: affected groups: ${formatCount(groups.groups)} groups of open rows, ${formatCount(groups.lines)} lines in ${TEMP.groups}`);
  }
  if (open) {
    scope = await streamStep(sync, 'Sync: scope visits (COPY)', 'visit ids', (p) => stageScopeIds(db, streams.scopeVisitIds(), p), (s) => s.ids);
    if (scope.skipped) o.log.warn(`scope visits: ${formatCount(scope.skipped)} ids that are not UUIDs left out`);
  }
  const detected = await streamStep(sync, 'Sync: staging (COPY)', 'detected rows', (p) => stageDetectedRows(db, streams.detectedRows(), p), (d) => d.rows);
  return { groups, scope, detected, openRows: open };
}

/**
 * Validate, then write everything in one transaction (sync.md): update, CONFLICTID repair,
 * insert, parents, stale and exclusion resolution. A failure rolls back and rethrows; after the
 * commit the statistics are recorded and returned. A dry run lists the transaction's changes in
 * its changes file and rolls back instead of committing: the statistics are what it would have
 * written.
 */
export async function merge(sync: Sync, staged: Staged): Promise<SyncStats> {
  const { db, options: o } = sync;
  const v = await o.recorder.step('Sync: validate', () => validateStaged(sync, staged.detected), (r) => ({ rows: r.rejected, unit: 'rejected' }));
  if (v.rejected > 0 && o.failOnRejects) throw rejectsError(v.rejected);
  // match, conflict ids, update, repair, parents, commit; insert; stale and exclusions; dry run: stored rows, changes file
  const steps = 6 + (o.enableInsert ? 1 : 0) + (o.enableStaleCleanup ? 2 : 0) + (o.dryRun ? 2 : 0);
  const stats = await withProgress(o.log, 'Sync: merge', (progress) => inTransaction(sync, progress, (step) => write(sync, staged, v, step)), {
    unit: 'steps',
    total: steps,
  });
  o.recorder.record(stats);
  return stats;
}

async function validateStaged(sync: Sync, detected: StagedRows): Promise<Validation> {
  const { recorder, log, rejectExamples } = sync.options;
  const v = await validate(sync.db, detected.unvouched, rejectExamples ?? 10);
  recorder.rejects.push(...v.rejects);
  logRejects(log, v);
  return v;
}

/** A step of the merge: timed in the recorder, counted in the merge's progress. */
type Step = <T>(name: string, fn: () => Promise<T>, count?: (r: T) => { rows: number; unit: string }) => Promise<T>;

async function inTransaction<T>(sync: Sync, progress: Progress, fn: (step: Step) => Promise<T>): Promise<T> {
  const { db, options: o } = sync;
  const step: Step = async (name, run, count) => {
    const r = await o.recorder.step(name, run, count);
    progress.tick();
    return r;
  };
  db.throwIfStopped();
  await db.client.query('BEGIN');
  try {
    const result = await fn(step);
    db.throwIfStopped();
    if (o.dryRun) await endDryRun(sync, o.dryRun, step);
    else await step('Sync: commit', () => db.client.query('COMMIT'));
    return result;
  } catch (err) {
    await db.client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The changes file from the open transaction, then its rollback. */
async function endDryRun(sync: Sync, dryRun: DryRun, step: Step): Promise<void> {
  const { db, tables: t, options: o } = sync;
  const lines = await step('Dry run: changes file', () => writeChanges(db, t, dryRun.changesPath), (n) => ({ rows: n, unit: 'lines' }));
  await step('Sync: rollback (dry run)', () => db.client.query('ROLLBACK'));
  const changes: DryRunChanges = { path: dryRun.changesPath, lines };
  o.recorder.dryRunChanges = changes;
  o.log.info(`Dry run: rolled back, nothing written; the changes it would have made are in ${changes.path} (${formatCount(lines)} lines)`);
  o.log.warn(`Dry run: ${changes.path} holds personal values (the stored and new values of updated columns): written owner-only (mode 0600); delete it when done`);
}

const NO_UPDATES: Updates = { updated: 0, byFlag: 0, byColumn: 0, reopened: 0, repaired: 0 };

/** The writes in the order of sync.md. */
async function write(sync: Sync, staged: Staged, v: Validation, step: Step): Promise<SyncStats> {
  const { db, tables: t, options: o } = sync;
  const m = await step('Sync: match', () => matchDetected(db, t, o), (r) => ({ rows: r.matchedRows, unit: 'matched rows' }));
  if (o.dryRun) await step('Dry run: stored rows', () => keepStoredRows(db, t, o), (n) => ({ rows: n, unit: 'rows kept' }));
  const newIds: NewIds = { dryRun: o.dryRun !== undefined };
  const ids = await step('Sync: conflict ids', () => conflictIds(sync), (r) => ({ rows: r.reused + r.allocated, unit: 'visits' }));
  const u = await step('Sync: update', async () => (m.matchedRows > 0 ? updateMatched(db, t, o) : NO_UPDATES), (r) => ({ rows: r.updated, unit: 'rows updated' }));
  const repaired = u.repaired + (await step('Sync: repair conflict ids', () => repairConflictIds(db, t), (n) => ({ rows: u.repaired + n, unit: 'rows repaired' })));
  let inserted = 0;
  if (o.enableInsert) {
    inserted = await step('Sync: insert', async () => (m.new > 0 ? insertNew(db, t, newIds) : 0), (n) => ({ rows: n, unit: 'rows inserted' }));
  }
  const parents = await step('Sync: parents', () => createParents(db, t, ids.allocated, newIds), (n) => ({ rows: n, unit: 'conflicts created' }));
  let staleResolved = 0;
  let exclusionResolved = 0;
  const open = staged.openRows;
  if (open) {
    const scope = { comprehensive: o.comprehensive, groups: staged.groups, scope: staged.scope };
    staleResolved = await step('Sync: resolve stale', () => resolveStale(db, t, scope, open), (n) => ({ rows: n, unit: 'rows resolved' }));
    exclusionResolved = await step('Sync: resolve exclusions', () => resolveExclusions(db, t, open), (n) => ({ rows: n, unit: 'rows resolved' }));
  }
  return {
    detected: staged.detected.rows,
    rejected: v.rejected,
    matched: m.matched,
    matchedRows: m.matchedRows,
    new: m.new,
    blockedByInServicePto: m.blockedByInServicePto,
    dirty: m.dirty,
    updated: u.updated,
    updatedByFlag: u.byFlag,
    updatedByColumn: u.byColumn,
    reopened: u.reopened,
    clean: m.matchedRows - u.updated,
    inserted,
    conflictIdsRepaired: repaired,
    conflictIdsReused: ids.reused,
    conflictIdsAllocated: ids.allocated,
    parentsCreated: parents,
    staleResolved,
    exclusionResolved,
    affectedGroupsReceived: staged.groups?.groups ?? 0,
    scopeVisitIds: staged.scope?.ids ?? 0,
  };
}

/** One CONFLICTID per visit that needs one: the visits' existing ids, then the new ids. */
async function conflictIds(sync: Sync): Promise<{ reused: number; allocated: number }> {
  const { db, tables: t, options: o } = sync;
  const visits = await collectConflictIds(db, t, o);
  const allocated = visits.toAllocate > 0 ? await allocateConflictIds(db, t) : 0;
  const reused = await indexConflictIds(db);
  return { reused, allocated };
}

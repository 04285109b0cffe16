// Fixtures for the sync tests: a schema bootstrapped by init_db, CVM rows written directly, and
// detected rows built per case and fed to the sync (no detection involved).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../src/log.js';
import { RunRecorder } from '../../src/run/recorder.js';
import type { Shutdown } from '../../src/run/shutdown.js';
import { DETECTED_COLUMNS } from '../../src/schema/columns.js';
import { closeSync, merge, openSync, stage, type SyncOptions, type SyncStats } from '../../src/sync/index.js';
import { initDb } from '../../src/target/initDb.js';
import { postgresIdent as quoteIdent } from '../../src/sqlText.js';
import type { WarehouseRow, WarehouseValue } from '../../src/warehouse/warehouse.js';
import { captureLog } from '../helpers/log.js';
import { dropSchema, testClient, uniqueSchema } from '../helpers/pg.js';

// Timestamps and dates as the text PostgreSQL prints, so assertions compare plain strings.
pg.types.setTypeParser(1114, (v: string) => v);
pg.types.setTypeParser(1082, (v: string) => v);

export type Values = Record<string, WarehouseValue | undefined>;

export function uuid(): string {
  return randomUUID();
}

/**
 * A logger that keeps what it writes (for assertions) instead of printing it: `lines`, the
 * non-empty lines; `text`, everything as written. `isTTY`: as if on a terminal (progress bars).
 */
export function memoryLogger(opts: { isTTY?: boolean } = {}): Logger & { readonly lines: string[]; readonly text: string } {
  const { log, lines, text } = captureLog({ isTTY: opts.isTTY });
  Object.defineProperty(log, 'lines', { get: lines });
  return Object.defineProperty(log, 'text', { get: text }) as Logger & { readonly lines: string[]; readonly text: string };
}

/** A plausible detected row; `v` overrides any column (by DETECTED_COLUMNS name). */
export function detected(v: Values = {}): Values {
  const base: Values = {
    SSN: '123456789',
    ProviderID: uuid(),
    AppProviderID: '11',
    ProviderName: 'Agency One',
    VisitID: uuid(),
    AppVisitID: '1001',
    ConProviderID: uuid(),
    ConAppProviderID: '22',
    ConProviderName: 'Agency Two',
    ConVisitID: uuid(),
    ConAppVisitID: '2002',
    VisitDate: '2026-02-14',
    SchStartTime: '2026-02-14 09:00:00',
    SchEndTime: '2026-02-14 11:00:00',
    ConSchStartTime: '2026-02-14 10:00:00',
    ConSchEndTime: '2026-02-14 12:00:00',
    VisitStartTime: '2026-02-14 09:01:00',
    VisitEndTime: '2026-02-14 11:02:00',
    ConVisitStartTime: '2026-02-14 10:03:00',
    ConVisitEndTime: '2026-02-14 12:04:00',
    CaregiverID: uuid(),
    ConCaregiverID: uuid(),
    AideName: 'Ann Aide',
    ConAideName: 'Ann Aide',
    AgencyContact: 'Contact One',
    ConAgencyContact: 'Contact Two',
    AgencyPhone: '555-0101',
    ConAgencyPhone: '555-0202',
    PLatitude: 40.5,
    PLongitude: -73.25,
    ConPLatitude: 40.75,
    ConPLongitude: -73.5,
    MinuteDiffBetweenSch: 0,
    DistanceMilesFromLatLng: 17.42,
    AverageMilesPerHour: 30,
    ETATravelMinutes: 35,
    IsMissed: false,
    ConIsMissed: false,
    SameSchTimeFlag: 'N',
    SameVisitTimeFlag: 'N',
    SchAndVisitTimeSameFlag: 'N',
    SchOverAnotherSchTimeFlag: 'N',
    VisitTimeOverAnotherVisitTimeFlag: 'Y',
    SchTimeOverVisitTimeFlag: 'N',
    DistanceFlag: 'N',
  };
  return { ...base, ...v };
}

export function toRow(v: Values): WarehouseRow {
  return DETECTED_COLUMNS.map((c) => (v[c.name] === undefined ? null : (v[c.name] as WarehouseValue)));
}

/** Affected groups [VisitDate, SSN] as detection streams them: [SSN, dates joined by commas]. */
export function packGroups(groups: ReadonlyArray<readonly [string, string]>): string[][] {
  const by = new Map<string, string[]>();
  for (const [date, ssn] of groups) by.set(ssn, [...(by.get(ssn) ?? []), date]);
  return [...by].map(([ssn, dates]) => [ssn, dates.join(',')]);
}

/** Scope visit ids as detection streams them: a few per row, joined by commas. */
export function packIds(ids: readonly string[], perRow = 3): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += perRow) out.push([ids.slice(i, i + perRow).join(',')]);
  return out;
}

export async function* batches<T>(rows: T[], size = 2): AsyncIterable<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

export interface Ctx {
  schema: string;
  client: pg.Client;
  s: string;
  close(): Promise<void>;
}

/** A fresh schema bootstrapped by init_db, and a client on it. */
export async function setup(prefix = 'sync'): Promise<Ctx> {
  const schema = uniqueSchema(prefix);
  const client = await testClient();
  await initDb(client, schema);
  return {
    schema,
    client,
    s: quoteIdent(schema),
    close: async () => {
      await client.end();
      await dropSchema(schema);
    },
  };
}

/** Insert one CVM row with exactly the given columns; returns its ID. */
export async function insertCvm(ctx: Ctx, v: Values): Promise<number> {
  const cols = Object.keys(v).filter((k) => v[k] !== undefined);
  const r = await ctx.client.query<{ ID: string }>(
    `INSERT INTO ${ctx.s}."conflictvisitmaps" (${cols.map(quoteIdent).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING "ID"`,
    cols.map((c) => v[c]),
  );
  return Number(r.rows[0].ID);
}

/** The stored row that a detected row would match, CONFLICTID and status as given. */
export function storedFrom(d: Values, extra: Values = {}): Values {
  const v: Values = {};
  for (const c of DETECTED_COLUMNS) if (d[c.name] !== undefined) v[c.name] = d[c.name];
  return { ...v, CONFLICTID: 1, StatusFlag: 'U', InServiceFlag: 'N', PTOFlag: 'N', CreatedDate: '2026-01-01 08:00:00', ...extra };
}

export async function cvm(ctx: Ctx, where = 'true', params: unknown[] = []): Promise<Array<Record<string, any>>> {
  const r = await ctx.client.query(`SELECT * FROM ${ctx.s}."conflictvisitmaps" c WHERE ${where} ORDER BY "ID"`, params);
  return r.rows;
}

export async function one(ctx: Ctx, id: number): Promise<Record<string, any>> {
  const rows = await cvm(ctx, `"ID" = $1`, [id]);
  if (rows.length !== 1) throw new Error(`no CVM row ${id}`);
  return rows[0];
}

/** Every row of both tables as text, for byte-for-byte comparisons. */
export async function snapshot(ctx: Ctx): Promise<string[]> {
  const a = await ctx.client.query(`SELECT t::text AS r FROM ${ctx.s}."conflictvisitmaps" t ORDER BY "ID"`);
  const b = await ctx.client.query(`SELECT t::text AS r FROM ${ctx.s}."conflicts" t ORDER BY "CONFLICTID"`);
  return [...a.rows.map((r) => `cvm ${r.r}`), ...b.rows.map((r) => `conflicts ${r.r}`)];
}

export interface RunInput {
  detected?: Values[];
  /** [VisitDate, SSN] */
  groups?: Array<[string, string]>;
  scope?: string[];
  /** The affected groups stream exactly as given (rows [SSN, dates joined by commas]), instead of `groups`. */
  packedGroups?: Array<Array<string | null>>;
  /** The scope stream exactly as given (rows [ids joined by commas]), instead of `scope`. */
  packedScope?: string[][];
  options?: Partial<Omit<SyncOptions, 'schema' | 'recorder' | 'log'>>;
  shutdown?: Shutdown;
  /** Runs on a new client (so tests can hold locks or transactions on theirs). */
  client?: pg.Client;
  /** The log (default: a new memoryLogger). */
  log?: Logger & { lines: string[] };
  /** Runs once the open rows are taken, before anything is staged (as detection would run). */
  whileDetecting?: () => Promise<void>;
}

export interface RunOutput {
  stats: SyncStats;
  /** The open rows' keys the sync sent to the warehouse, unpacked (undefined: none sent). */
  openKeys: { ids: string[]; groups: string[] } | undefined;
  recorder: RunRecorder;
  log: Logger & { lines: string[] };
}

/** One sync, the way the job drives it: prepare, groups, scope, detected rows, apply. */
export async function runSync(ctx: Ctx, input: RunInput = {}): Promise<RunOutput> {
  const log = input.log ?? memoryLogger();
  const recorder = new RunRecorder(log);
  const opts: SyncOptions = {
    schema: ctx.schema,
    comprehensive: true,
    skipUnchanged: true,
    enableInsert: true,
    enableStaleCleanup: true,
    failOnRejects: false,
    recorder,
    log,
    shutdown: input.shutdown,
    ...input.options,
  };
  const own = input.client === undefined;
  const client = input.client ?? (await testClient());
  try {
    const sync = await openSync(client, opts);
    if (input.whileDetecting) {
      await sync.openRows;
      await input.whileDetecting();
    }
    let openKeys: RunOutput['openKeys'];
    const unpack = async (packs: AsyncIterable<string[][]>) => {
      const out: string[] = [];
      for await (const batch of packs) for (const [p] of batch) out.push(...p.split(','));
      return out;
    };
    const staged = await stage(sync, {
      // The test plays the warehouse: its streams are what it gives, whatever the keys.
      sendOpenKeys: async (keys) => {
        openKeys = { ids: await unpack(keys.ids()), groups: await unpack(keys.groups()) };
      },
      affectedGroups: () => batches(input.packedGroups ?? packGroups(input.groups ?? [])),
      scopeVisitIds: () => batches(input.packedScope ?? packIds(input.scope ?? [])),
      detectedRows: () => batches((input.detected ?? []).map(toRow)),
    });
    const stats = await merge(sync, staged);
    await closeSync(sync);
    return { stats, openKeys, recorder, log };
  } finally {
    if (own) await client.end();
  }
}

export async function conflictsRows(ctx: Ctx): Promise<Array<Record<string, any>>> {
  const r = await ctx.client.query(`SELECT * FROM ${ctx.s}."conflicts" ORDER BY "CONFLICTID"`);
  return r.rows;
}

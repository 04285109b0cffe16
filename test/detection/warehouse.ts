// Small DuckDB warehouse files for detection tests: the BI tables of warehouse-columns.tsv
// (WAREHOUSE_COLUMNS), filled from compact descriptions, then a detection run over them with
// the real session (openDuckDb) and the real run (createDetectionRun).
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, parseAsOf, type DuckDbConfig } from '../../src/config/config.js';
import { createDetectionRun } from '../../src/detection/detection.js';
import type { DetectionParams, MphBand, OpenKeys } from '../../src/detection/types.js';
import { RunRecorder, type StepRecord } from '../../src/run/recorder.js';
import { duckdbText } from '../../src/sqlText.js';
import { DETECTED_COLUMNS, WAREHOUSE_COLUMNS } from '../../src/schema/columns.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { WarehouseRow, WarehouseValue } from '../../src/warehouse/warehouse.js';
import { silentLog } from '../helpers/log.js';
import { packedGroup } from '../helpers/openKeys.js';
import { tempDir as newTempDir } from '../helpers/tmp.js';

export type Row = Record<string, unknown>;

/** A deterministic UUID for test object `n` of a kind (`a` agency, `v` visit…), upper-case as some sources send. */
export function uid(kind: string, n: number | string): string {
  const k = Buffer.from(kind).toString('hex').padStart(8, '0').slice(-8);
  const s = String(n).replace(/[^0-9a-f]/gi, '').padStart(12, '0').slice(-12);
  return `${k}-0000-4000-8000-${s}`.toUpperCase();
}

export interface VisitSpec {
  /** Visit id (any text; use uid('v', n) for a UUID). */
  id: string;
  caregiver: string;
  provider: string;
  /** `YYYY-MM-DD`. */
  date: string;
  /** Scheduled start and end: `HH:MM[:SS]` on the visit date, a full timestamp, or null. */
  sch?: [string | null, string | null];
  /** Visit start and end, same forms; omitted: unstarted. */
  visit?: [string | null, string | null];
  /** Visit Updated Timestamp; undefined: CHANGED (the default clock's morning), null: NULL. */
  updated?: string | null;
  missed?: boolean;
  outGps?: string | null;
  inGps?: string | null;
  providerPatient?: string | null;
  payerPatient?: string | null;
  payer?: string | null;
  contract?: string | null;
  office?: string | null;
  serviceCode?: string | null;
  user?: string | null;
  /** Raw column overrides, by warehouse column name. */
  raw?: Row;
}

export interface WarehouseSpec {
  visits: VisitSpec[];
  caregivers?: Row[];
  providers?: Row[];
  offices?: Row[];
  patients?: Row[];
  addresses?: Row[];
  payers?: Row[];
  contracts?: Row[];
  serviceCodes?: Row[];
  users?: Row[];
  /** The DuckDB type of FACT."Visit Date" (the spec allows TIMESTAMP or DATE). */
  visitDateType?: 'TIMESTAMP' | 'DATE';
}

/** The default T of the tests: AS_OF (naive), TIMEZONE UTC. */
export const T = '2026-02-14 12:00:00';
export const TODAY = '2026-02-14';
/** A changed timestamp (inside the 36-hour lookback of T) and an unchanged one. */
export const CHANGED = '2026-02-14 06:00:00';
export const UNCHANGED = '2026-01-01 06:00:00';

/** Visit `n` of caregiver 1 at agency `prov` on TODAY, scheduled and visited 09:00–10:00, changed. */
export function visitAt(n: number, prov: number, more: Partial<VisitSpec> = {}): VisitSpec {
  return { id: uid('v', n), caregiver: uid('c', 1), provider: uid('a', prov), date: TODAY, sch: ['09:00', '10:00'], visit: ['09:00', '10:00'], ...more };
}

function time(date: string, t: string | null | undefined): string | null {
  if (t === null || t === undefined) return null;
  return /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${date.slice(0, 10)} ${t.length === 5 ? `${t}:00` : t}` : t;
}

export function caregiver(id: string, ssn: string | null, more: Row = {}): Row {
  return {
    'Caregiver Id': id,
    SSN: ssn,
    Status: 'Active',
    'Caregiver Code': `C-${id.slice(-4)}`,
    'Caregiver Fullname': 'Ann Smith',
    'Caregiver Firstname': 'Ann',
    'Caregiver Lastname': 'Smith',
    ...more,
  };
}

export function provider(id: string, more: Row = {}): Row {
  return {
    'Provider Id': id,
    'Provider Name': `Agency ${id.slice(-4)}`,
    'Is Active': true,
    'Is Demo': false,
    'Address State': 'NY',
    'Phone Number 1': '555-0100',
    'Federal Tax Number': `TAX-${id.slice(-4)}`,
    ...more,
  };
}

export function patient(id: string, more: Row = {}): Row {
  return {
    'Patient Id': id,
    'Admission Id': `ADM-${id.slice(-4)}`,
    'Patient Name': 'Bob Jones',
    'Patient Firstname': 'Bob',
    'Patient Lastname': 'Jones',
    'Medicaid Number': `MED-${id.slice(-4)}`,
    Status: 'Active',
    ...more,
  };
}

export function address(id: string, patientId: string, more: Row = {}): Row {
  return {
    'Patient Address Id': id,
    'Patient Id': patientId,
    'Primary Address': true,
    'Address Type': 'GPS',
    'Address Line 1': '1 Main St',
    'Address Line 2': null,
    City: 'Albany',
    County: 'Albany',
    'Address State': 'NY',
    'Zip Code': '12207',
    Latitude: null,
    Longitude: null,
    'Application Created UTC Timestamp': '2025-01-01 00:00:00',
    'Application Patient Address Id': 1,
    'Application Patient Id': 1,
    ...more,
  };
}

export function visitRow(v: VisitSpec, appId: number): Row {
  const sch = v.sch ?? [null, null];
  const vis = v.visit ?? [null, null];
  return {
    'Visit Id': v.id,
    'Application Visit Id': appId,
    'Visit Date': v.date,
    'Caregiver Id': v.caregiver,
    'Application Caregiver Id': 10,
    'Provider Id': v.provider,
    'Application Provider Id': 20,
    'Office Id': v.office ?? null,
    'Application Office Id': 30,
    'Patient Id': v.providerPatient ?? null,
    'Application Patient Id': 40,
    'Provider Patient Id': v.providerPatient ?? null,
    'Application Provider Patient Id': 41,
    'Payer Patient Id': v.payerPatient ?? null,
    'Application Payer Patient Id': 42,
    'Payer Id': v.payer ?? null,
    'Application Payer Id': 0,
    'Contract Id': v.contract ?? null,
    'Application Contract Id': 0,
    'Service Code Id': v.serviceCode ?? null,
    'Scheduled Start Time': time(v.date, sch[0]),
    'Scheduled End Time': time(v.date, sch[1]),
    'Visit Start Time': time(v.date, vis[0]),
    'Visit End Time': time(v.date, vis[1]),
    'Call In Time': time(v.date, vis[0]),
    'Call Out Time': time(v.date, vis[1]),
    'Call In GPS Coordinates': v.inGps ?? null,
    'Call Out GPS Coordinates': v.outGps ?? null,
    'Call Out Device Type': 'Mobile',
    'Visit Updated Timestamp': v.updated === undefined ? CHANGED : v.updated,
    'Visit Updated User Id': v.user ?? null,
    'Is Missed': v.missed ?? false,
    'Missed Visit Reason': null,
    'Bill Rate Non-Billed': 20.5,
    'Billed Rate': 25.25,
    Billed: 'yes',
    'Billed Hours': 1.5,
    'Total Billed Amount': 37.875,
    'Bill Type': 'Hourly',
    'Invoice Date': null,
    ...v.raw,
  };
}

function tables(): Map<string, Array<{ column: string; type: string }>> {
  const out = new Map<string, Array<{ column: string; type: string }>>();
  for (const c of WAREHOUSE_COLUMNS) {
    const type = c.duckdbType.split(' ')[0];
    if (!out.has(c.table)) out.set(c.table, []);
    out.get(c.table)!.push({ column: c.column, type });
  }
  return out;
}

const quote = duckdbText.ident;

/** Writes a DuckDB warehouse file (schema BI) into `dir` and returns its path. */
export async function writeWarehouse(dir: string, spec: WarehouseSpec): Promise<string> {
  const path = join(dir, `wh-${Math.random().toString(36).slice(2)}.duckdb`);
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  try {
    await conn.run('CREATE SCHEMA BI');
    const defs = tables();
    for (const [table, cols] of defs) {
      const typed = cols.map(({ column, type }) => {
        const t = table === 'FACTVISITCALLPERFORMANCE_CR' && column === 'Visit Date' ? (spec.visitDateType ?? 'TIMESTAMP') : type;
        return `${quote(column)} ${t}`;
      });
      await conn.run(`CREATE TABLE BI.${quote(table)} (${typed.join(', ')})`);
    }
    const fill = async (table: string, rows: Row[] | undefined) => {
      const cols = defs.get(table)!;
      for (const r of rows ?? []) {
        for (const k of Object.keys(r)) {
          if (!cols.some((c) => c.column === k)) throw new Error(`${table} has no column ${k}`);
        }
        const present = cols.filter((c) => r[c.column] !== undefined);
        const values = present.map((c) => {
          const v = r[c.column];
          return v === null ? 'NULL' : `CAST(? AS ${c.type})`;
        });
        const params = present.filter((c) => r[c.column] !== null).map((c) => r[c.column] as DuckDBValue);
        await conn.run(`INSERT INTO BI.${quote(table)} (${present.map((c) => quote(c.column)).join(', ')}) VALUES (${values.join(', ')})`, params);
      }
    };
    await fill('FACTVISITCALLPERFORMANCE_CR', spec.visits.map((v, i) => visitRow(v, 1000 + i)));
    // Every caregiver and provider a visit names exists unless the spec lists them itself.
    const cgs = spec.caregivers ?? [...new Set(spec.visits.map((v) => v.caregiver))].map((id, i) => caregiver(id, `SSN-${i + 1}`));
    const prs = spec.providers ?? [...new Set(spec.visits.map((v) => v.provider))].map((id) => provider(id));
    await fill('DIMCAREGIVER', cgs);
    await fill('DIMPROVIDER', prs);
    await fill('DIMOFFICE', spec.offices);
    await fill('DIMPATIENT', spec.patients);
    await fill('DIMPATIENTADDRESS', spec.addresses);
    await fill('DIMPAYER', spec.payers);
    await fill('DIMCONTRACT', spec.contracts);
    await fill('DIMSERVICECODE', spec.serviceCodes);
    await fill('DIMUSER', spec.users);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  return path;
}

export const DEFAULT_BANDS: MphBand[] = [
  { from: 0, to: 5, mph: 15 },
  { from: 5, to: 10, mph: 20 },
  { from: 10, to: 25, mph: 30 },
  { from: 25, to: 100000, mph: 45 },
];

/** Overrides of the detection parameters; AS_OF as text, parsed as the configuration parses it. */
export type ParamsOver = Partial<Omit<DetectionParams, 'asOf'>> & { asOf?: string };

export function params(over: ParamsOver = {}): DetectionParams {
  const { asOf = T, ...rest } = over;
  return {
    asOf: 'asOf' in over && over.asOf === undefined ? undefined : parseAsOf(asOf),
    lookbackHours: 36,
    lookbackYears: 2,
    lookforwardDays: 45,
    comprehensive: true,
    batchSize: 1000,
    excludedProviders: [],
    excludedSsns: [],
    mphBands: DEFAULT_BANDS,
    extraDistancePer: 1.25,
    ...rest,
  };
}

export interface DetectResult {
  clock: string;
  /** Detected rows as objects keyed by DETECTED_COLUMNS names. */
  rows: Array<Record<string, WarehouseValue>>;
  raw: WarehouseRow[];
  batches: number[];
  /** Affected groups, unpacked: [VisitDate, SSN]. */
  groups: WarehouseRow[];
  /** The affected groups stream as sent: [SSN, dates joined by commas]. */
  packedGroups: WarehouseRow[];
  /** Scope visit ids, unpacked and sorted. */
  scope: string[];
  /** The scope stream as sent: ids joined by commas, per row. */
  packedScope: string[];
  stats: Record<string, number>;
  steps: StepRecord[];
  /** Rows keyed `VisitID>ConVisitID` (lower-case ids). */
  byPair: Map<string, Record<string, WarehouseValue>>;
}

let tmp: string | undefined;
/** A temp dir for this test process, removed at exit. */
export function tempDir(): string {
  return (tmp ??= newTempDir('cu-detect-'));
}

/** Builds the warehouse, runs a whole detection over it and collects every stream. */
export async function detect(
  spec: WarehouseSpec,
  over: ParamsOver = {},
  opts: { timezone?: string; openKeys?: TestOpenKeys } = { timezone: 'UTC' },
): Promise<DetectResult> {
  const path = await writeWarehouse(tempDir(), spec);
  return detectFile(path, over, opts);
}

/** The job's DuckDB configuration for the warehouse file `path` (the defaults of operations.md). */
export function duckdbConfig(path: string): DuckDbConfig {
  return { kind: 'duckdb', path, database: 'ANALYTICS', schema: 'BI', memoryLimit: DEFAULT_DUCKDB_MEMORY_LIMIT };
}

/** Open rows' keys for sendOpenKeys: visit ids, and groups [trimmed SSN, VisitDate]. */
export interface TestOpenKeys {
  readonly ids: readonly string[];
  readonly groups: ReadonlyArray<readonly [string, string]>;
}

/** Packed as the sync packs them (OpenKeys): `per` keys to a row, one row per batch. */
function openKeysOf(k: TestOpenKeys, per = 2): OpenKeys {
  const packs = (keys: string[]) =>
    (async function* () {
      for (let i = 0; i < keys.length; i += per) yield [[keys.slice(i, i + per).join(',')]];
    })();
  return { ids: () => packs([...k.ids]), groups: () => packs(k.groups.map(([ssn, date]) => packedGroup(ssn, date))) };
}

export async function detectFile(
  path: string,
  over: ParamsOver = {},
  opts: { timezone?: string; openKeys?: TestOpenKeys } = { timezone: 'UTC' },
): Promise<DetectResult> {
  const log = silentLog();
  const session = await openDuckDb(duckdbConfig(path), { timezone: opts.timezone, log });
  try {
    const recorder = new RunRecorder(log);
    const run = createDetectionRun(session, params(over), { database: 'ANALYTICS', schema: 'BI', recorder, log });
    const clock = await run.resolveClock();
    await run.prepare();
    if (opts.openKeys) await run.sendOpenKeys(openKeysOf(opts.openKeys));
    // The packed streams, unpacked: groups [VisitDate, SSN], scope one id each.
    const packedGroups: WarehouseRow[] = [];
    // Delta-only mode with open keys has no groups in its scope (the job does not ask).
    if (!opts.openKeys || over.comprehensive !== false) for await (const b of run.affectedGroups()) packedGroups.push(...b);
    const groups: WarehouseRow[] = packedGroups.flatMap(([ssn, dates]) => String(dates).split(',').map((d) => [d, ssn]));
    const packedScope: string[] = [];
    for await (const b of run.scopeVisitIds()) packedScope.push(...b.map((r) => String(r[0])));
    const scope = packedScope.flatMap((ids) => ids.split(','));
    const raw: WarehouseRow[] = [];
    const batches: number[] = [];
    for await (const b of run.detectedRows()) {
      batches.push(b.length);
      raw.push(...b);
    }
    const rows = raw.map((r) => Object.fromEntries(DETECTED_COLUMNS.map((c, i) => [c.name, r[i]])));
    const byPair = new Map(rows.map((r) => [`${r.VisitID}>${r.ConVisitID}`, r]));
    return { clock, rows, raw, batches, groups, packedGroups, scope: scope.sort(), packedScope, stats: { ...recorder.stats }, steps: [...recorder.steps], byPair };
  } finally {
    await session.close();
  }
}

/** The lower-case key of an ordered pair, as byPair holds it. */
export function pair(v1: string, v2: string): string {
  return `${v1.toLowerCase()}>${v2.toLowerCase()}`;
}

/** The seven rule flags (detection.md, Step 3), in rule order 1–7, as detected-columns.tsv lists them. */
export const RULE_FLAGS: readonly string[] = DETECTED_COLUMNS.filter((c) => /^rule \d$/.test(c.from)).map((c) => c.name);

/** The seven rule flags of a row, as a string like `NNNNYNN`. */
export function flags(r: Record<string, WarehouseValue> | undefined): string | undefined {
  if (!r) return undefined;
  return RULE_FLAGS.map((f) => r[f]).join('');
}

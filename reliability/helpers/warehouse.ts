// Synthetic DuckDB warehouses for the reliability suite, built with set-based SQL inside DuckDB
// (range()), so a warehouse of a hundred thousand visits takes a second or two to write.
//
// Shape: C caregivers (one SSN each) work D dates; on each date a caregiver has K visits, visit k
// at provider (c + k) mod P, scheduled 50 minutes after visit k − 1 and lasting about an hour, so
// neighbours overlap (rules 4, 5, 6) and visits two apart do not (a gap: rule 7 when GPS is on).
// Durations vary with the visit number, so no two visits ever have equal times (rules 1, 2, 3
// never fire): a pair's flags stay the same when a mutation moves a visit and back (the soak
// compares flags). Visits on dates before `futureFrom` are completed; from then on every third
// visit of a group is unstarted.
import { DuckDBInstance } from '@duckdb/node-api';
import { WAREHOUSE_COLUMNS } from '../../src/schema/columns.js';

export interface SyntheticOptions {
  caregivers: number;
  dates: number;
  visitsPerDay: number;
  providers: number;
  /** First visit date, `YYYY-MM-DD`. */
  firstDate: string;
  /** Dates from here on hold unstarted visits too (default: never). */
  futureFrom?: string;
  /** Every visit's `Visit Updated Timestamp` (text); `changedEvery` visits get `changedAt` instead. */
  updatedAt: string;
  changedAt?: string;
  changedEvery?: number;
  /** Call-out GPS text on completed visits (some of it garbage): rule 7 can fire. Default true. */
  gps?: boolean;
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** `kind` 1 caregiver, 2 provider, 3 visit, 4 patient, 5 office…; n a number: a lower-case UUID. */
export function sqlUuid(kind: number, n: string): string {
  return `printf('%08x-0000-4000-8000-%012x', ${kind}, ${n})`;
}
export function uuidOf(kind: number, n: number): string {
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** CREATE SCHEMA BI and every table of warehouse-columns.tsv (empty). */
export async function createTables(conn: { run(sql: string): Promise<unknown> }, overrides: Record<string, string> = {}): Promise<void> {
  await conn.run('CREATE SCHEMA IF NOT EXISTS BI');
  const tables = new Map<string, string[]>();
  for (const c of WAREHOUSE_COLUMNS) {
    const type = overrides[`${c.table}.${c.column}`] ?? c.duckdbType.split(' ')[0];
    if (!tables.has(c.table)) tables.set(c.table, []);
    tables.get(c.table)!.push(`${quote(c.column)} ${type}`);
  }
  for (const [t, cols] of tables) await conn.run(`CREATE TABLE BI.${quote(t)} (${cols.join(', ')})`);
}

/** Run statements on a warehouse file (read-write), then close it. */
export async function onWarehouse(path: string, statements: string[]): Promise<void> {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  try {
    for (const s of statements) await conn.run(s);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** Write a synthetic warehouse file at `path` (which must not exist yet). */
export async function writeSynthetic(path: string, o: SyntheticOptions): Promise<void> {
  const { caregivers: C, dates: D, visitsPerDay: K, providers: P } = o;
  if (K > P) throw new Error('visitsPerDay must not exceed providers (neighbours need different providers)');
  const gps = o.gps ?? true;
  const future = o.futureFrom ? `DATE '${o.futureFrom}'` : `DATE '9999-12-31'`;
  const changed = o.changedEvery && o.changedAt ? `CASE WHEN n % ${o.changedEvery} = 0 THEN TIMESTAMP '${o.changedAt}' ELSE TIMESTAMP '${o.updatedAt}' END` : `TIMESTAMP '${o.updatedAt}'`;
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  try {
    await createTables(conn);
    await conn.run(
      `INSERT INTO BI.DIMCAREGIVER ("Caregiver Id", SSN, Status, "Caregiver Code", "Caregiver Fullname", "Caregiver Firstname", "Caregiver Lastname")
       SELECT ${sqlUuid(1, 'c')}, printf('%09d', 100000000 + c), 'Active', 'C-' || c, 'Aide ' || c, 'Aide', 'No ' || c FROM range(${C}) t(c)`,
    );
    await conn.run(
      `INSERT INTO BI.DIMPROVIDER ("Provider Id", "Provider Name", "Is Active", "Is Demo", "Address State", "Phone Number 1", "Federal Tax Number")
       SELECT ${sqlUuid(2, 'p')}, 'Agency ' || p, true, false, 'NY', '555-' || p, 'TAX-' || p FROM range(${P}) t(p)`,
    );
    // One visit per (caregiver c, date d, slot k); n numbers the visits.
    const v = `(SELECT c, d, k, (c * ${D} + d) * ${K} + k AS n, DATE '${o.firstDate}' + CAST(d AS INTEGER) AS vdate
                  FROM range(${C}) a(c), range(${D}) b(d), range(${K}) e(k))`;
    const sch = `(vdate + INTERVAL 6 HOUR + INTERVAL (k * 50) MINUTE)`;
    const schEnd = `(${sch} + INTERVAL (60 + n % 13) MINUTE)`;
    const completed = `(vdate < ${future} OR k % 3 <> 2)`;
    const vs = `CASE WHEN ${completed} THEN ${sch} + INTERVAL (n % 5) MINUTE END`;
    const ve = `CASE WHEN ${completed} THEN ${sch} + INTERVAL (n % 5 + 55 + n % 17) MINUTE END`;
    const gpsText = gps
      ? `CASE WHEN NOT ${completed} THEN NULL WHEN n % 29 = 0 THEN 'garbage' WHEN n % 31 = 0 THEN '91.5,10' ` +
        `ELSE printf('%.5f,%.5f', 40.0 + (n * 7919 % 1000) / 1000.0, -74.0 + (n * 104729 % 1000) / 1000.0) END`
      : 'NULL';
    await conn.run(
      `INSERT INTO BI.FACTVISITCALLPERFORMANCE_CR (
         "Visit Id", "Application Visit Id", "Visit Date", "Caregiver Id", "Application Caregiver Id",
         "Provider Id", "Application Provider Id", "Office Id", "Application Office Id", "Patient Id", "Application Patient Id",
         "Provider Patient Id", "Application Provider Patient Id", "Payer Patient Id", "Application Payer Patient Id",
         "Payer Id", "Application Payer Id", "Contract Id", "Application Contract Id", "Service Code Id",
         "Scheduled Start Time", "Scheduled End Time", "Visit Start Time", "Visit End Time", "Call In Time", "Call Out Time",
         "Call In GPS Coordinates", "Call Out GPS Coordinates", "Call Out Device Type", "Visit Updated Timestamp",
         "Visit Updated User Id", "Is Missed", "Missed Visit Reason", "Bill Rate Non-Billed", "Billed Rate", "Billed",
         "Billed Hours", "Total Billed Amount", "Bill Type", "Invoice Date")
       SELECT ${sqlUuid(3, 'n')}, n, vdate, ${sqlUuid(1, 'c')}, c,
              ${sqlUuid(2, `(c + k) % ${P}`)}, (c + k) % ${P}, NULL, 0, NULL, 0,
              NULL, 0, NULL, 0,
              NULL, 0, NULL, 0, NULL,
              ${sch}, ${schEnd}, ${vs}, ${ve}, ${vs}, ${ve},
              NULL, ${gpsText}, 'Mobile', ${changed},
              NULL, false, NULL, 20.5, 25.25, 'yes',
              1.5, 37.875, 'Hourly', NULL
         FROM ${v}`,
    );
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** Visit numbers of the busy day start here; caregiver number BUSY_CAREGIVER. */
export const BUSY_FIRST_VISIT = 50_000_000;
export const BUSY_CAREGIVER = 999_999;

/**
 * One caregiver's very busy day: `visits` back-to-back visits at providers 0 and 1 in turn, none
 * overlapping and without GPS, so Step 3 evaluates visits² ordered pairs and finds nothing: a
 * long warehouse statement from a tiny file. `append`: into a file writeSynthetic made.
 */
export async function writeBusyDay(path: string, o: { visits: number; date: string; updatedAt: string; append?: boolean }): Promise<void> {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  const cg = sqlUuid(1, String(BUSY_CAREGIVER));
  try {
    if (!o.append) {
      await createTables(conn);
      await conn.run(
        `INSERT INTO BI.DIMPROVIDER ("Provider Id", "Provider Name", "Is Active", "Is Demo", "Address State")
         SELECT ${sqlUuid(2, 'p')}, 'Agency ' || p, true, false, 'NY' FROM range(2) t(p)`,
      );
    }
    await conn.run(`INSERT INTO BI.DIMCAREGIVER ("Caregiver Id", SSN, Status) VALUES (${cg}, '555000111', 'Active')`);
    const d = o.date;
    await conn.run(
      `INSERT INTO BI.FACTVISITCALLPERFORMANCE_CR ("Visit Id", "Application Visit Id", "Visit Date", "Caregiver Id", "Provider Id",
         "Application Payer Id", "Application Contract Id", "Scheduled Start Time", "Scheduled End Time", "Visit Start Time", "Visit End Time",
         "Visit Updated Timestamp", "Is Missed")
       SELECT ${sqlUuid(3, 'n')}, n, DATE '${d}', ${cg}, ${sqlUuid(2, 'n % 2')}, 0, 0,
              TIMESTAMP '${d} 00:00:00' + INTERVAL (2 * (n - ${BUSY_FIRST_VISIT})) MINUTE, TIMESTAMP '${d} 00:01:00' + INTERVAL (2 * (n - ${BUSY_FIRST_VISIT})) MINUTE,
              TIMESTAMP '${d} 00:00:00' + INTERVAL (2 * (n - ${BUSY_FIRST_VISIT})) MINUTE, TIMESTAMP '${d} 00:01:00' + INTERVAL (2 * (n - ${BUSY_FIRST_VISIT})) MINUTE,
              TIMESTAMP '${o.updatedAt}', false
         FROM range(${BUSY_FIRST_VISIT}, ${BUSY_FIRST_VISIT + o.visits}) t(n)`,
    );
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** Visit numbers of visits added by `roundChanges` start here. */
export const ADDED_FIRST_VISIT = 40_000_000;

export interface RoundChanges {
  /** The warehouse statements of the round. */
  statements: string[];
  /** Visits deleted from the fact table (another process marks their CVM rows `D`). */
  deleted: string[];
}

/**
 * The changes of round `r` of a synthetic warehouse (writeSynthetic with `o`): every touched
 * visit gets `Visit Updated Timestamp` = `at`. Moves visits by 40 minutes (conflicts end and
 * begin), toggles Is Missed, moves visits to the next provider or the next day, deletes a few,
 * and adds new overlapping visits. Never turns a completed visit into an unstarted one or back,
 * so a pair's flags stay what they were (rules 1–3 cannot fire: durations differ).
 */
export function roundChanges(r: number, at: string, o: SyntheticOptions, busy = false): RoundChanges {
  const real = `"Application Visit Id" < ${ADDED_FIRST_VISIT}`;
  const n = '"Application Visit Id"';
  const ts = `"Visit Updated Timestamp" = TIMESTAMP '${at}'`;
  const F = 'BI.FACTVISITCALLPERFORMANCE_CR';
  const shift = (m: string) =>
    ['Scheduled Start Time', 'Scheduled End Time', 'Visit Start Time', 'Visit End Time', 'Call In Time', 'Call Out Time']
      .map((c) => `"${c}" = "${c}" + ${m}`)
      .join(', ');
  const sel = (mod: number) => `${n} % ${mod} = ${r % mod}`;
  const statements = [
    `UPDATE ${F} SET ${shift(`INTERVAL (${r % 2 === 0 ? 40 : -40}) MINUTE`)}, ${ts} WHERE ${real} AND ${sel(10)}`,
    `UPDATE ${F} SET "Is Missed" = NOT "Is Missed", ${ts} WHERE ${real} AND ${sel(23)}`,
    `UPDATE ${F} SET "Provider Id" = printf('%08x-0000-4000-8000-%012x', 2, (CAST(right("Provider Id", 12) AS INTEGER) + 1) % ${o.providers}), ${ts}
      WHERE ${real} AND ${sel(29)}`,
    `UPDATE ${F} SET "Visit Date" = "Visit Date" + INTERVAL 1 DAY, ${shift('INTERVAL 1 DAY')}, ${ts} WHERE ${real} AND ${sel(31)}`,
    // New visits: caregivers 3r, 3r+1, … get one more visit on their first date, overlapping slot 1.
    `INSERT INTO ${F} ("Visit Id", "Application Visit Id", "Visit Date", "Caregiver Id", "Provider Id", "Application Payer Id", "Application Contract Id",
        "Scheduled Start Time", "Scheduled End Time", "Visit Start Time", "Visit End Time", "Call In Time", "Call Out Time",
        "Visit Updated Timestamp", "Is Missed", "Call Out Device Type")
     SELECT ${sqlUuid(3, 'm')}, m, DATE '${o.firstDate}', ${sqlUuid(1, 'cg')}, ${sqlUuid(2, `(cg + ${o.visitsPerDay}) % ${o.providers}`)}, 0, 0,
            TIMESTAMP '${o.firstDate} 07:05:00', TIMESTAMP '${o.firstDate} 07:05:00' + INTERVAL (61 + m % 7) MINUTE,
            TIMESTAMP '${o.firstDate} 07:07:00', TIMESTAMP '${o.firstDate} 07:07:00' + INTERVAL (53 + m % 11) MINUTE,
            TIMESTAMP '${o.firstDate} 07:07:00', TIMESTAMP '${o.firstDate} 07:07:00' + INTERVAL (53 + m % 11) MINUTE,
            TIMESTAMP '${at}', false, 'Mobile'
       FROM (SELECT ${ADDED_FIRST_VISIT} + ${r} * 1000 + i AS m, (${r} * 7 + i * 3) % ${o.caregivers} AS cg FROM range(5) t(i))`,
  ];
  const deletedWhere = `${real} AND ${n} % 41 = ${r % 41}`;
  statements.push(`DELETE FROM ${F} WHERE ${deletedWhere}`);
  // the ids, computed the way writeSynthetic numbers visits
  const deleted: string[] = [];
  const total = o.caregivers * o.dates * o.visitsPerDay;
  for (let v = r % 41; v < total; v += 41) deleted.push(uuidOf(3, v));
  if (busy) statements.push(`UPDATE ${F} SET ${ts} WHERE "Caregiver Id" = ${sqlUuid(1, String(BUSY_CAREGIVER))}`);
  return { statements, deleted };
}

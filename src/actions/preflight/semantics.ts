// Warehouse semantics (operations.md, "Preflight checks"): one-line probes with known answers,
// written with the dialect helpers and patterns the detection SQL itself uses (locations.ts,
// context.ts), so a probe tests what the job runs: the GPS grammar on its edge cases and the
// numeric conversion of its parts, trimming, the distance of one degree, minute differences,
// the window arithmetic at a month end and on Feb 29, upper/lower-case comparison of ids.
import { context, type Ctx } from '../../detection/context.js';
import type { SqlDialect } from '../../detection/dialect/index.js';
import { GPS_LAT_GROUP, GPS_LON_GROUP, GPS_RE } from '../../detection/locations.js';
import type { SqlParam, WarehouseSession, WarehouseValue } from '../../warehouse/warehouse.js';
import type { Mismatch, Preflight } from './check.js';

/** An expected value: exact text, exact number (numeric text accepted), NULL, or a number within a tolerance. */
export type ProbeValue = string | number | null | { readonly near: number; readonly within: number };

export interface Probe {
  readonly name: string;
  readonly sql: string;
  readonly params: readonly SqlParam[];
  /** Result column → the answer the job relies on (one row). */
  readonly expected: Readonly<Record<string, ProbeValue>>;
  /** What to do when the answer differs. */
  readonly action: string;
}

const REPORT =
  'do not run the job on this warehouse: its SQL would compute this differently from what detection.md specifies; send this line to the developers';

/** The bound text(s) as a one-row derived table `p` with columns "input" (and "other"). */
function bound(d: SqlDialect, count: 1 | 2): string {
  const cols = ['input', 'other'].slice(0, count).map((c) => `CAST(? AS VARCHAR) AS ${d.text.ident(c)}`);
  return `(SELECT ${cols.join(', ')}) p`;
}

/** GPS texts and what the grammar of detection.md ("Coordinates") makes of them. */
export const GPS_CASES: ReadonlyArray<{ text: string; lat: string | null; lon: string | null; latNum: number | null; lonNum: number | null }> = [
  { text: '5.,.5', lat: '5.', lon: '.5', latNum: 5, lonNum: 0.5 },
  { text: '+.5,-0', lat: '+.5', lon: '-0', latNum: 0.5, lonNum: 0 },
  { text: ' "40.7" ," -73.9"', lat: '40.7', lon: '-73.9', latNum: 40.7, lonNum: -73.9 },
  { text: '40.7,-73.9\n', lat: null, lon: null, latNum: null, lonNum: null },
  { text: '1e5,2', lat: null, lon: null, latNum: null, lonNum: null },
];

/** The context every step is written against (context.ts), for a fixed clock and windows. */
export function probeContext(d: SqlDialect, database: string, schema: string, clock: string, hours = 1, years = 1, days = 0): Ctx {
  return context(d, {
    clock,
    database,
    schema,
    lookbackHours: hours,
    lookbackYears: years,
    lookforwardDays: days,
    asOf: undefined,
    comprehensive: true,
    batchSize: 1,
    excludedProviders: [],
    excludedSsns: [],
    mphBands: [],
    extraDistancePer: 1,
  });
}

/** The probes for a dialect; `database`/`schema` only satisfy context() (no table is read). */
export function semanticProbes(d: SqlDialect, database: string, schema: string): Probe[] {
  const q = d.text.ident;
  const probes: Probe[] = [];

  // Same layering as step 2: regex groups of the text, then the numeric conversion of the groups.
  const [latT, lonT] = d.regexGroups('p."input"', GPS_RE, [GPS_LAT_GROUP, GPS_LON_GROUP]);
  const gpsSql =
    `SELECT g."lat_t", g."lon_t", ${d.tryToDouble('g."lat_t"')} AS "lat", ${d.tryToDouble('g."lon_t"')} AS "lon" ` +
    `FROM (SELECT ${latT} AS "lat_t", ${lonT} AS "lon_t" FROM ${bound(d, 1)}) g`;
  for (const c of GPS_CASES) {
    probes.push({
      name: `GPS grammar and numeric conversion of ${show(c.text)}`,
      sql: gpsSql,
      params: [c.text],
      expected: { lat_t: c.lat, lon_t: c.lon, lat: c.latNum, lon: c.lonNum },
      action: `${REPORT} (GPS texts of this form would give other coordinates, so rule 7 and the stored coordinates would differ)`,
    });
  }

  const padded = '  \t123-45-6789\u00a0\n  ';
  probes.push({
    name: 'trimming removes spaces only',
    sql: `SELECT ${d.trimSpaces('p."input"')} AS "trimmed" FROM ${bound(d, 1)}`,
    params: [padded],
    expected: { trimmed: '\t123-45-6789\u00a0\n' },
    action: `${REPORT} (SSNs, states and zip codes padded with tabs, newlines or no-break spaces would group differently)`,
  });

  const zero = d.doubleLiteral(0);
  probes.push({
    name: 'distance of one degree along the equator',
    sql: `SELECT ${d.distanceMetres(zero, zero, zero, d.doubleLiteral(1))} AS "metres"`,
    params: [],
    expected: { metres: { near: 111195.101177, within: 5e-7 } },
    action: `${REPORT} (distances, travel times and rule 7 would differ)`,
  });

  const ts = d.timestampLiteral;
  probes.push({
    name: 'minute differences count minute boundaries',
    sql:
      `SELECT ${d.minuteDiff(ts('2026-01-01 09:59:59'), ts('2026-01-01 10:00:01'))} AS "across_hour", ` +
      `${d.minuteDiff(ts('2026-01-01 09:00:59'), ts('2026-01-01 10:00:00'))} AS "hour", ` +
      `${d.minuteDiff(ts('2026-01-01 10:00:00'), ts('2026-01-01 09:59:59'))} AS "backwards"`,
    params: [],
    expected: { across_hour: 1, hour: 60, backwards: -1 },
    action: `${REPORT} (MinuteDiffBetweenSch and rule 7 would differ)`,
  });

  // The windows exactly as every step writes them (context.ts), from a fixed clock.
  const windows = (clock: string, hours: number, years: number, days: number) => {
    const x = probeContext(d, database, schema, clock, hours, years, days);
    return (
      `SELECT ${d.timestampText(x.changedSince)} AS "changed_since", ${d.dateText(x.windowFrom)} AS "window_from", ` +
      `${d.dateText(x.windowTo)} AS "window_to", ${d.dateText(x.today)} AS "today"`
    );
  };
  const windowCases = [
    { at: 'a month end', clock: '2026-01-31 23:30:00', days: 29, expected: ['2026-01-30 11:30:00', '2024-01-31', '2026-03-01', '2026-01-31'] },
    { at: 'Feb 29', clock: '2024-02-29 12:00:00', days: 45, expected: ['2024-02-28 00:00:00', '2022-02-28', '2024-04-14', '2024-02-29'] },
  ];
  for (const w of windowCases) {
    const [changed_since, window_from, window_to, today] = w.expected;
    probes.push({
      name: `window arithmetic at ${w.at} (T ${w.clock.slice(0, 16)}, 36 hours, 2 years, ${w.days} days)`,
      sql: windows(w.clock, 36, 2, w.days),
      params: [],
      expected: { changed_since, window_from, window_to, today },
      action: `${REPORT} (the changed-visit lookback and the date window would select other visits)`,
    });
  }

  const upper = '0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D';
  probes.push({
    name: 'upper-case and lower-case ids',
    sql:
      `SELECT LOWER(p."input") AS "lowered", ` +
      `CASE WHEN p."input" = p."other" THEN 'equal' ELSE 'different' END AS ${q('as_sent')}, ` +
      `CASE WHEN LOWER(p."input") = p."other" THEN 'equal' ELSE 'different' END AS ${q('lowered_vs_lower')} ` +
      `FROM ${bound(d, 2)}`,
    params: [upper, upper.toLowerCase()],
    expected: { lowered: upper.toLowerCase(), as_sent: 'different', lowered_vs_lower: 'equal' },
    action:
      `${REPORT}; a case-insensitive default collation (Snowflake DEFAULT_DDL_COLLATION on the account, database or ` +
      `schema) is the usual cause: unset it for the job's database and schema`,
  });
  return probes;
}

/** Run every probe; each is a check of its own. */
export async function checkSemantics(wh: WarehouseSession, d: SqlDialect, database: string, schema: string, pf: Preflight): Promise<void> {
  for (const probe of semanticProbes(d, database, schema)) {
    await pf.guard('warehouse semantics', probe.name, describe(probe.expected), probe.action, async () => {
      const rows = await wh.query(probe.sql, probe.params);
      pf.expect('warehouse semantics', probe.name, compareAnswer(probe, rows), describe(probe.expected));
    });
  }
}

/** undefined when `rows` is the one row `probe` expects; else what differs. */
export function compareAnswer(probe: Probe, rows: ReadonlyArray<Record<string, WarehouseValue>>): Mismatch | undefined {
  if (rows.length !== 1) return { expected: `one row: ${describe(probe.expected)}`, found: `${rows.length} rows`, action: probe.action };
  const row = rows[0];
  const expected: string[] = [];
  const found: string[] = [];
  for (const [column, want] of Object.entries(probe.expected)) {
    const has = Object.hasOwn(row, column);
    const got = has ? row[column] : undefined;
    if (has && same(want, got ?? null)) continue;
    expected.push(`${column} ${showValue(want)}`);
    found.push(has ? `${column} ${showValue(got ?? null)}` : `no column ${column}`);
  }
  return expected.length ? { expected: expected.join(', '), found: found.join(', '), action: probe.action } : undefined;
}

function same(want: ProbeValue, got: WarehouseValue): boolean {
  if (want === null || got === null) return want === got;
  if (typeof want === 'string') return got === want;
  const n = typeof got === 'number' ? got : typeof got === 'string' && got.trim() !== '' ? Number(got) : NaN;
  if (typeof want === 'number') return n === want;
  return Math.abs(n - want.near) <= want.within;
}

function describe(expected: Readonly<Record<string, ProbeValue>>): string {
  return Object.entries(expected).map(([c, v]) => `${c} ${showValue(v)}`).join(', ');
}

function showValue(v: ProbeValue | boolean): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return show(v);
  if (typeof v === 'object') return `${v.near} ± ${v.within}`;
  return String(v);
}

/** Text quoted, with tabs, newlines and other invisible characters written as escapes. */
export function show(s: string): string {
  return `"${s.replace(/[^\x20-\x7e]|"/g, (ch) => (ch === '"' ? '\\"' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
}

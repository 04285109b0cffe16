// `sql --dialect snowflake|duckdb [--as-of TS]`: every statement a detection run sends, in
// order, with its parameters bound for reading, for review by a DBA. Configuration comes from the
// environment (loadConfig); nothing is connected to, so the values a run reads at its start (T,
// PostgreSQL reference data) are shown with stand-ins, said so in the output.
import { loadConfig, type Env } from '../config/config.js';
import { detectionStatements, clockStatement } from '../detection/detection.js';
import { parseAsOf } from '../detection/steps.js';
import type { DetectionParams, MphBand, Statement } from '../detection/types.js';
import { ConfigError } from '../errors.js';
import type { Dialect } from '../warehouse/warehouse.js';
import { parseArgs } from './args.js';

/** The bands and multiplier init_db writes when the tables are empty (sync.md, bootstrap). */
const SAMPLE_BANDS: MphBand[] = [
  { from: 0, to: 5, mph: 15 },
  { from: 5, to: 10, mph: 20 },
  { from: 10, to: 25, mph: 30 },
  { from: 25, to: 100000, mph: 45 },
];
const SAMPLE_EXTRA_DISTANCE_PER = 1.25;
const SAMPLE_SSNS = ['123-45-6789', '987-65-4321'];
const SAMPLE_PROVIDERS = ['00000000-0000-4000-8000-000000000001'];

function literal(v: string | number | boolean | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

/** Replaces each `?` placeholder outside string literals and quoted identifiers with its value. */
export function bindForReading(sql: string, params: readonly (string | number | boolean | null)[]): string {
  let out = '';
  let i = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      if (i >= params.length) throw new Error('more placeholders than parameters');
      out += literal(params[i++]);
    } else out += ch;
  }
  if (i !== params.length) throw new Error(`${params.length} parameters for ${i} placeholders`);
  return out;
}

/** Wall-clock time of `instant` in `timeZone`, as `YYYY-MM-DD HH:MM:SS`. */
function wallClock(instant: Date, timeZone: string | undefined): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function renderStatements(statements: readonly Statement[]): string {
  const out: string[] = [];
  for (const s of statements) {
    const head = `-- ${s.step}${s.kind ? ` [${s.kind}]` : ''}`;
    if (s.kind === 'insertRows' && s.data) {
      out.push(
        `${head}: ${s.data.table} is filled through WarehouseSession.insertRows; the values travel as bound data,` +
          ` never as SQL text. The statement below shows one row of placeholders, bound with a sample row for reading.`,
        `--   rows at run time: the ${s.data.table === 'cu_excluded_ssns' ? 'excluded_ssn' : 'excluded_agency'} values read from PostgreSQL` +
          ` (here ${s.data.rowCount} sample rows: ${s.data.sample.map((r) => `(${r.map(literal).join(', ')})`).join(', ') || 'none'})`,
        `${bindForReading(s.sql, s.data.sample[0] ?? s.data.columns.map(() => null))};`,
        '',
      );
      continue;
    }
    out.push(head, `${bindForReading(s.sql, s.params)};`, '');
  }
  return out.join('\n');
}

/** `sql --dialect snowflake|duckdb [--as-of TS]`: every statement a run would send, parameters bound. */
export async function sqlCommand(argv: string[], env: Env = process.env): Promise<number> {
  const a = parseArgs(argv, { dialect: 'string', 'as-of': 'string', help: 'boolean' });
  if (a.help) {
    process.stdout.write('usage: conflict-updater sql --dialect snowflake|duckdb [--as-of TS]\n');
    return 0;
  }
  const config = loadConfig(env);
  const dialect = String(a.dialect ?? (config.warehouse.kind === 'snowflake' ? 'snowflake' : 'duckdb')) as Dialect;
  if (dialect !== 'snowflake' && dialect !== 'duckdb') throw new ConfigError(`--dialect must be snowflake or duckdb (got "${dialect}")`);
  const asOf = typeof a['as-of'] === 'string' ? a['as-of'] : config.asOf;
  let clock: string;
  let clockNote: string;
  if (asOf !== undefined) {
    let parsed: ReturnType<typeof parseAsOf>;
    try {
      parsed = parseAsOf(asOf);
    } catch (err) {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    }
    if ('naive' in parsed) {
      clock = parsed.naive;
      clockNote = `AS_OF ${asOf}, naive: T as it is`;
    } else {
      clock = wallClock(new Date(parsed.instant), config.timezone ?? 'UTC');
      clockNote = `AS_OF ${asOf}, converted by the session to its zone at run time; shown here in ${config.timezone ?? 'UTC'}`;
    }
  } else {
    clock = wallClock(new Date(), config.timezone);
    clockNote = `read from the session at run time (statement "Clock" below); shown here: this machine's current time in ${config.timezone ?? 'its own zone'}`;
  }
  const params: DetectionParams = {
    asOf,
    lookbackHours: config.lookbackHours,
    lookbackYears: config.lookbackYears,
    lookforwardDays: config.lookforwardDays,
    comprehensive: config.enableAsymmetricJoin,
    batchSize: config.batchSize,
    excludedProviders: SAMPLE_PROVIDERS,
    excludedSsns: SAMPLE_SSNS,
    mphBands: SAMPLE_BANDS,
    extraDistancePer: SAMPLE_EXTRA_DISTANCE_PER,
  };
  const statements = detectionStatements(dialect, {
    ...params,
    clock,
    database: config.warehouse.database,
    schema: config.warehouse.schema,
  });
  const header = [
    `-- conflict-updater detection statements, dialect ${dialect}, in the order a run sends them (${statements.length} statements)`,
    `-- T = ${clock}: ${clockNote}`,
    `-- warehouse ${config.warehouse.database}.${config.warehouse.schema}; LOOKBACK_HOURS=${config.lookbackHours} LOOKBACK_YEARS=${config.lookbackYears}` +
      ` LOOKFORWARD_DAYS=${config.lookforwardDays} ENABLE_ASYMMETRIC_JOIN=${config.enableAsymmetricJoin} BATCH_SIZE=${config.batchSize}`,
    `-- reference data read from PostgreSQL at run time, shown with stand-ins: mph bands ${SAMPLE_BANDS.map((b) => `${b.from}-${b.to}:${b.mph}`).join(', ')};` +
      ` ExtraDistancePer ${SAMPLE_EXTRA_DISTANCE_PER} (a real, read as a double)`,
    '',
  ];
  if (asOf === undefined && !statements.some((s) => s.step === 'Clock')) {
    const c = clockStatement(dialect, undefined);
    if (c) statements.unshift(c);
  }
  process.stdout.write(header.join('\n') + '\n' + renderStatements(statements));
  return 0;
}

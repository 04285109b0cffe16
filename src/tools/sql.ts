// `sql --dialect snowflake|duckdb [--as-of TS]`: every statement a detection run sends, in
// order, with its parameters bound for reading, for review by a DBA. Configuration comes from the
// environment (loadConfig); nothing is connected to, so the values a run reads at its start (T,
// PostgreSQL reference data) are shown with stand-ins, said so in the output.
import { loadConfig, type Env } from '../config/config.js';
import { detectionParams, detectionStatements, sqlDialect, type DetectionReference, type Statement } from '../detection/detection.js';
import { ConfigError } from '../errors.js';
import { duckdbText, type SqlScalar, type SqlText } from '../sqlText.js';
import type { Dialect } from '../warehouse/warehouse.js';
import { parseArgs } from './args.js';

/**
 * Stand-ins for the reference data a run reads from PostgreSQL: the bands and multiplier init_db
 * writes when the tables are empty (sync.md, bootstrap), and a few excluded SSNs and providers.
 */
const SAMPLE_REFERENCE: DetectionReference = {
  excludedProviders: ['00000000-0000-4000-8000-000000000001'],
  excludedSsns: ['123-45-6789', '987-65-4321'],
  mphBands: [
    { from: 0, to: 5, mph: 15 },
    { from: 5, to: 10, mph: 20 },
    { from: 10, to: 25, mph: 30 },
    { from: 25, to: 100000, mph: 45 },
  ],
  extraDistancePer: 1.25,
};

/** Replaces each `?` placeholder outside string literals and quoted identifiers with its value (as `text` writes it). */
export function bindForReading(sql: string, params: readonly SqlScalar[], text: SqlText = duckdbText): string {
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
      out += text.literal(params[i++]);
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

export function renderStatements(statements: readonly Statement[], text: SqlText): string {
  const out: string[] = [];
  for (const s of statements) {
    const head = `-- ${s.step} [${s.kind}]`;
    if (s.kind === 'insertRows') {
      out.push(
        `${head}: ${s.data.table} is filled through WarehouseSession.insertRows; the values travel as bound data,` +
          ` never as SQL text. The statement below shows one row of placeholders, bound with a sample row for reading.`,
        `--   rows at run time: ${s.data.source}` +
          ` (here ${s.data.rowCount} sample rows: ${s.data.sample.map((r) => `(${r.map(text.literal).join(', ')})`).join(', ') || 'none'})`,
        `${bindForReading(s.sql, s.data.sample[0] ?? s.data.columns.map(() => null), text)};`,
        '',
      );
      continue;
    }
    out.push(head, `${bindForReading(s.sql, s.params, text)};`, '');
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
  // --as-of is AS_OF for this command: parsed (and checked) by the configuration, like the job's.
  const config = loadConfig(typeof a['as-of'] === 'string' ? { ...env, AS_OF: a['as-of'] } : env);
  const dialect = String(a.dialect ?? (config.warehouse.kind === 'snowflake' ? 'snowflake' : 'duckdb')) as Dialect;
  if (dialect !== 'snowflake' && dialect !== 'duckdb') throw new ConfigError(`--dialect must be snowflake or duckdb (got "${dialect}")`);
  const { asOf } = config;
  let clock: string;
  let clockNote: string;
  if (asOf?.kind === 'naive') {
    clock = asOf.clock;
    clockNote = `AS_OF ${asOf.text}, naive: T as it is`;
  } else if (asOf) {
    clock = wallClock(new Date(asOf.instant), config.timezone ?? 'UTC');
    clockNote = `AS_OF ${asOf.text}, converted by the session to its zone at run time; shown here in ${config.timezone ?? 'UTC'}`;
  } else {
    clock = wallClock(new Date(), config.timezone);
    clockNote = `read from the session at run time (statement "Clock" below); shown here: this machine's current time in ${config.timezone ?? 'its own zone'}`;
  }
  const statements = detectionStatements(dialect, {
    ...detectionParams(config, SAMPLE_REFERENCE),
    clock,
    database: config.warehouse.database,
    schema: config.warehouse.schema,
  });
  const { mphBands, extraDistancePer } = SAMPLE_REFERENCE;
  const header = [
    `-- conflict-updater detection statements, dialect ${dialect}, in the order a run sends them (${statements.length} statements)`,
    `-- T = ${clock}: ${clockNote}`,
    `-- warehouse ${config.warehouse.database}.${config.warehouse.schema}; LOOKBACK_HOURS=${config.lookbackHours} LOOKBACK_YEARS=${config.lookbackYears}` +
      ` LOOKFORWARD_DAYS=${config.lookforwardDays} ENABLE_ASYMMETRIC_JOIN=${config.enableAsymmetricJoin} BATCH_SIZE=${config.batchSize}`,
    `-- reference data read from PostgreSQL at run time, shown with stand-ins: mph bands ${mphBands.map((b) => `${b.from}-${b.to}:${b.mph}`).join(', ')};` +
      ` ExtraDistancePer ${extraDistancePer} (a real, read as a double)`,
    '',
  ];
  process.stdout.write(header.join('\n') + '\n' + renderStatements(statements, sqlDialect(dialect).text));
  return 0;
}

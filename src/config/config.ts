// The job's configuration: every environment variable of operations.md ("Configuration"),
// parsed and validated once. A bad value is a ConfigError naming the variable (exit 2).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { normalisePrivateKey, PrivateKeyError, type NormalisedPrivateKey } from './privateKey.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFormat = 'text' | 'json';
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface SnowflakeConfig {
  readonly kind: 'snowflake';
  readonly account: string;
  readonly user: string;
  readonly warehouse: string;
  readonly privateKey: NormalisedPrivateKey;
  readonly hasPassphrase: boolean;
  readonly database: string;
  readonly schema: string;
  readonly role: string | undefined;
  /** SNOWFLAKE_ACCESS_URL: an endpoint instead of https://<account>.snowflakecomputing.com (PrivateLink, tests). */
  readonly accessUrl?: string;
}

export interface DuckDbConfig {
  readonly kind: 'duckdb';
  readonly path: string;
  /** The name the file is attached as, so SQL reads `ANALYTICS.BI.<table>` on both engines. */
  readonly database: string;
  readonly schema: string;
  /** DUCKDB_MEMORY_LIMIT: DuckDB's memory_limit; beyond it DuckDB spills to a temporary directory. */
  readonly memoryLimit: string;
}

/** DuckDB's own default is 80 % of the machine's memory: too much for a laptop that also runs PostgreSQL. */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '2GB';

/** DUCKDB_MEMORY_LIMIT: a size DuckDB's memory_limit takes (1.5GB, 512MB, 4GiB). */
function duckdbMemoryLimit(env: Env): string {
  const v = value(env, 'DUCKDB_MEMORY_LIMIT') ?? DEFAULT_DUCKDB_MEMORY_LIMIT;
  if (!/^\d+(\.\d+)?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(v) || Number.parseFloat(v) <= 0) {
    throw new ConfigError(`DUCKDB_MEMORY_LIMIT must be a size such as 2GB, 1.5GB or 512MB (got "${v}")`);
  }
  return v;
}

export type WarehouseConfig = SnowflakeConfig | DuckDbConfig;

export interface PostgresConfig {
  /** `embedded`: no POSTGRES_HOST, the program starts its own server with data in `dataDir`. */
  readonly kind: 'external' | 'embedded';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly schema: string;
  readonly sslmode: SslMode;
  /** POSTGRES_SSLROOTCERT: the CAs that verify the server; undefined: the public CAs and the image's RDS bundle. */
  readonly sslRootCert: CaBundle | undefined;
  readonly dataDir: string;
}

/** A CA bundle read once: its certificates as PEM text, and where it came from (for messages). */
export interface CaBundle {
  readonly pem: string;
  readonly source: string;
  readonly certificates: number;
}

export interface EmailConfig {
  readonly sender: string;
  readonly recipients: readonly string[];
}

export interface Config {
  readonly environment: string;
  readonly warehouse: WarehouseConfig;
  readonly postgres: PostgresConfig;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly lookbackHours: number;
  readonly lookbackYears: number;
  readonly lookforwardDays: number;
  readonly batchSize: number;
  readonly skipUnchangedRecords: boolean;
  readonly enableAsymmetricJoin: boolean;
  readonly enableStaleCleanup: boolean;
  readonly enableInsert: boolean;
  readonly failOnRejects: boolean;
  /** AS_OF, parsed; undefined: T is the warehouse session's current time. */
  readonly asOf: AsOf | undefined;
  readonly timezone: string | undefined;
  /** Undefined: `data/reports/<run start>.json`, named when the run starts. */
  readonly runReportPath: string | undefined;
  readonly email: EmailConfig | undefined;
  readonly awsRegion: string;
  /** MAX_RUN_MINUTES: past this the run stops as on SIGTERM (src/run/shutdown.ts). */
  readonly maxRunMinutes: number;
  /** DRY_RUN (operations.md, "Dry run"): roll back instead of committing, list the changes. */
  readonly dryRun: boolean;
  /** DRY_RUN_CHANGES_PATH; undefined: next to the run report (dryRunChangesPath). */
  readonly dryRunChangesPath: string | undefined;
}

const SNOWFLAKE_LOGIN = ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_WAREHOUSE', 'SNOWFLAKE_PRIVATE_KEY'] as const;

/** Variables whose values are never logged, only their presence and length. */
export const SECRET_VARIABLES = new Set(['SNOWFLAKE_PRIVATE_KEY', 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', 'POSTGRES_PASSWORD']);

function value(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function wholeNumber(env: Env, name: string, dflt: number, min: number): number {
  const v = value(env, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new ConfigError(`${name} must be a whole number, at least ${min} (got "${v}")`);
  }
  return Number(v);
}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = value(env, name);
  if (v === undefined) return dflt;
  const l = v.toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  throw new ConfigError(`${name} must be one of true/false/1/0/yes/no (got "${v}")`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T, caseInsensitive: boolean): T {
  const v = value(env, name);
  if (v === undefined) return dflt;
  const found = allowed.find((a) => (caseInsensitive ? a.toLowerCase() === v.toLowerCase() : a === v));
  if (!found) throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return found;
}

/**
 * AS_OF (detection.md, "The run's clock"), parsed: a naive T `YYYY-MM-DD HH:MM:SS[.ffffff]` taken as
 * it is, or an instant `YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM` the warehouse session converts to its
 * zone. `text` is AS_OF as given, for the log.
 */
export type AsOf =
  | { readonly kind: 'naive'; readonly text: string; readonly clock: string }
  | { readonly kind: 'instant'; readonly text: string; readonly instant: string };

// ISO-8601 date or date-time, optional fraction (nanoseconds at most) and offset.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses AS_OF text (trimmed); a ConfigError names AS_OF when it is not a valid ISO-8601 date-time. */
export function parseAsOf(text: string): AsOf {
  const v = text.trim();
  const m = ISO.exec(v);
  const bad = () =>
    new ConfigError(`AS_OF must be an ISO-8601 date-time such as 2026-02-14T06:00:00 or 2026-02-14T06:00:00-05:00 (got "${v}")`);
  if (!m) throw bad();
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac, off] = m;
  const date = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  if (
    date.getUTCFullYear() !== +y || date.getUTCMonth() !== +mo - 1 || date.getUTCDate() !== +d ||
    +h > 23 || +mi > 59 || +s > 59
  ) {
    throw bad();
  }
  // Microseconds, as the warehouse keeps them; a zero fraction is left out.
  const f = frac ? frac.padEnd(6, '0').slice(0, 6) : '';
  const clock = `${y}-${mo}-${d} ${h}:${mi}:${s}${f && Number(f) !== 0 ? `.${f}` : ''}`;
  if (!off) return { kind: 'naive', text: v, clock };
  const offset = off === 'Z' ? '+00:00' : off.includes(':') ? off : `${off.slice(0, 3)}:${off.slice(3)}`;
  return { kind: 'instant', text: v, instant: `${clock.replace(' ', 'T')}${offset}` };
}

function asOf(env: Env): AsOf | undefined {
  const v = value(env, 'AS_OF');
  return v === undefined ? undefined : parseAsOf(v);
}

function timezone(env: Env): string | undefined {
  const v = value(env, 'TIMEZONE');
  if (v === undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
  } catch {
    throw new ConfigError(`TIMEZONE must be an IANA time zone name such as America/New_York or UTC (got "${v}")`);
  }
  return v;
}

function identifier(name: string, v: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(v) || v.length > 63) {
    throw new ConfigError(`${name} must be a plain identifier (letters, digits, underscore; at most 63 characters) (got "${v}")`);
  }
  return v;
}

function warehouse(env: Env): WarehouseConfig {
  const set = SNOWFLAKE_LOGIN.filter((n) => value(env, n) !== undefined);
  const database = identifier('SNOWFLAKE_DATABASE', value(env, 'SNOWFLAKE_DATABASE') ?? 'ANALYTICS');
  const schema = identifier('SNOWFLAKE_SCHEMA', value(env, 'SNOWFLAKE_SCHEMA') ?? 'BI');
  if (set.length === 0) {
    return { kind: 'duckdb', path: value(env, 'DUCKDB_PATH') ?? 'data/warehouse.duckdb', database, schema, memoryLimit: duckdbMemoryLimit(env) };
  }
  if (set.length < SNOWFLAKE_LOGIN.length) {
    const missing = SNOWFLAKE_LOGIN.filter((n) => !set.includes(n));
    throw new ConfigError(
      `Snowflake login is half set: ${set.join(', ')} set but ${missing.join(', ')} missing. ` +
        'Set all four to use Snowflake, or none to use the local DuckDB warehouse.',
    );
  }
  const passphrase = env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE || undefined;
  let privateKey: NormalisedPrivateKey;
  try {
    privateKey = normalisePrivateKey(env.SNOWFLAKE_PRIVATE_KEY as string, passphrase);
  } catch (err) {
    if (err instanceof PrivateKeyError) throw new ConfigError(err.message);
    throw err;
  }
  const role = value(env, 'SNOWFLAKE_ROLE');
  const accessUrl = value(env, 'SNOWFLAKE_ACCESS_URL');
  if (accessUrl !== undefined && !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(accessUrl)) {
    throw new ConfigError(`SNOWFLAKE_ACCESS_URL must be a URL such as https://acme.privatelink.snowflakecomputing.com (got "${accessUrl}")`);
  }
  return {
    kind: 'snowflake',
    account: value(env, 'SNOWFLAKE_ACCOUNT') as string,
    user: value(env, 'SNOWFLAKE_USER') as string,
    warehouse: value(env, 'SNOWFLAKE_WAREHOUSE') as string,
    privateKey,
    hasPassphrase: passphrase !== undefined,
    database,
    schema,
    role,
    accessUrl,
  };
}

function postgres(env: Env, environment: string): PostgresConfig {
  const host = value(env, 'POSTGRES_HOST');
  // The embedded server listens on 54320 by default, clear of a PostgreSQL the machine may run.
  const port = wholeNumber(env, 'POSTGRES_PORT', host ? 5432 : 54320, 1);
  if (port > 65535) throw new ConfigError(`POSTGRES_PORT must be a port number, 1 to 65535 (got "${port}")`);
  const schema = value(env, 'POSTGRES_SCHEMA') ?? `conflict_${environment}`;
  if (schema.length > 63) throw new ConfigError(`POSTGRES_SCHEMA must be at most 63 characters (got ${schema.length})`);
  const user = value(env, 'POSTGRES_USER');
  if (host && !user) throw new ConfigError('POSTGRES_USER must be set when POSTGRES_HOST is set');
  return {
    kind: host ? 'external' : 'embedded',
    host: host ?? 'localhost',
    port,
    user: user ?? 'postgres',
    password: env.POSTGRES_PASSWORD ?? (host ? '' : 'postgres'),
    database: value(env, 'POSTGRES_DATABASE') ?? 'conflict_management',
    schema,
    // Verified by default against a real server (operations.md, "Security"); the embedded one is local.
    sslmode: oneOf(env, 'POSTGRES_SSLMODE', ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'], host ? 'verify-full' : 'disable', false),
    sslRootCert: sslRootCert(env),
    dataDir: value(env, 'POSTGRES_DATA_DIR') ?? 'data/postgres',
  };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** POSTGRES_SSLROOTCERT: a file path, or the PEM itself (as a secret arrives, `\n` escapes allowed). */
function sslRootCert(env: Env): CaBundle | undefined {
  const v = value(env, 'POSTGRES_SSLROOTCERT');
  if (v === undefined) return undefined;
  let text: string;
  let source: string;
  if (v.includes('-----BEGIN')) {
    text = v.replace(/\\n/g, '\n');
    source = 'the CA bundle in POSTGRES_SSLROOTCERT';
  } else {
    try {
      text = readFileSync(v, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? String(err);
      throw new ConfigError(`POSTGRES_SSLROOTCERT must be a readable CA bundle file or the PEM itself (cannot read "${v}": ${code})`);
    }
    source = `the CA bundle ${v} (POSTGRES_SSLROOTCERT)`;
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) {
    throw new ConfigError(`POSTGRES_SSLROOTCERT holds no PEM certificate (-----BEGIN CERTIFICATE-----) in ${v.includes('-----BEGIN') ? 'its value' : `"${v}"`}`);
  }
  certs.forEach((c, i) => {
    try {
      new X509Certificate(c);
    } catch (err) {
      throw new ConfigError(`POSTGRES_SSLROOTCERT: certificate ${i + 1} of ${certs.length} is not a valid X.509 certificate (${(err as Error).message})`);
    }
  });
  return { pem: certs.join('\n') + '\n', source, certificates: certs.length };
}

function email(env: Env): EmailConfig | undefined {
  const sender = value(env, 'EMAIL_SENDER');
  const recipients = (value(env, 'EMAIL_RECIPIENTS') ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  if (!sender && recipients.length === 0) return undefined;
  if (!sender) throw new ConfigError('EMAIL_SENDER must be set when EMAIL_RECIPIENTS is set (status email)');
  if (recipients.length === 0) throw new ConfigError('EMAIL_RECIPIENTS must be set when EMAIL_SENDER is set (comma-separated addresses)');
  const address = /^[^\s@,;<>"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
  if (!address.test(sender)) throw new ConfigError(`EMAIL_SENDER must be an email address (got "${sender}")`);
  const bad = recipients.find((r) => !address.test(r));
  if (bad) throw new ConfigError(`EMAIL_RECIPIENTS must be comma-separated email addresses ("${bad}" is not one)`);
  return { sender, recipients };
}

/** Parse and validate the whole configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const environment = value(env, 'ENVIRONMENT') ?? 'dev';
  if (!/^[a-z0-9_]+$/.test(environment)) {
    throw new ConfigError(`ENVIRONMENT must be lower-case letters, digits or underscores, it names the schema conflict_<ENVIRONMENT> (got "${environment}")`);
  }
  return {
    environment,
    logLevel: oneOf(env, 'LOG_LEVEL', ['DEBUG', 'INFO', 'WARNING', 'ERROR'], 'INFO', true),
    logFormat: oneOf(env, 'LOG_FORMAT', ['text', 'json'], 'text', true),
    warehouse: warehouse(env),
    postgres: postgres(env, environment),
    lookbackHours: wholeNumber(env, 'LOOKBACK_HOURS', 36, 1),
    lookbackYears: wholeNumber(env, 'LOOKBACK_YEARS', 2, 1),
    lookforwardDays: wholeNumber(env, 'LOOKFORWARD_DAYS', 45, 0),
    batchSize: wholeNumber(env, 'BATCH_SIZE', 5000, 1),
    skipUnchangedRecords: bool(env, 'SKIP_UNCHANGED_RECORDS', true),
    enableAsymmetricJoin: bool(env, 'ENABLE_ASYMMETRIC_JOIN', true),
    enableStaleCleanup: bool(env, 'ENABLE_STALE_CLEANUP', true),
    enableInsert: bool(env, 'ENABLE_INSERT', true),
    failOnRejects: bool(env, 'FAIL_ON_REJECTS', false),
    asOf: asOf(env),
    timezone: timezone(env),
    runReportPath: value(env, 'RUN_REPORT_PATH'),
    email: email(env),
    awsRegion: value(env, 'AWS_REGION') ?? 'us-east-1',
    maxRunMinutes: maxRunMinutes(env),
    dryRun: bool(env, 'DRY_RUN', false),
    dryRunChangesPath: value(env, 'DRY_RUN_CHANGES_PATH'),
  };
}

function masked(present: boolean, length: number): string {
  return present ? `<set, ${length} characters>` : '<not set>';
}

/** The effective configuration as (name, value) lines for the log, secrets masked. */
export function describeConfig(c: Config): Array<[string, string]> {
  const w = c.warehouse;
  const p = c.postgres;
  const lines: Array<[string, string]> = [['ENVIRONMENT', c.environment]];
  if (w.kind === 'snowflake') {
    lines.push(
      ['warehouse', 'Snowflake'],
      ['SNOWFLAKE_ACCOUNT', w.account],
      ['SNOWFLAKE_USER', w.user],
      ['SNOWFLAKE_WAREHOUSE', w.warehouse],
      ['SNOWFLAKE_DATABASE', w.database],
      ['SNOWFLAKE_SCHEMA', w.schema],
      ['SNOWFLAKE_ROLE', w.role ?? '<default>'],
      ['SNOWFLAKE_ACCESS_URL', w.accessUrl ?? `https://${w.account}.snowflakecomputing.com`],
      ['SNOWFLAKE_PRIVATE_KEY', `${masked(true, w.privateKey.length)} ${w.privateKey.format}, given as ${w.privateKey.source}`],
      ['SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', w.hasPassphrase ? '<set>' : '<not set>'],
    );
  } else {
    lines.push(['warehouse', 'DuckDB'], ['DUCKDB_PATH', w.path], ['DUCKDB_MEMORY_LIMIT', w.memoryLimit], ['SNOWFLAKE_DATABASE', w.database], ['SNOWFLAKE_SCHEMA', w.schema]);
  }
  if (p.kind === 'external') {
    lines.push(
      ['target', 'PostgreSQL'],
      ['POSTGRES_HOST', p.host],
      ['POSTGRES_PORT', String(p.port)],
      ['POSTGRES_USER', p.user],
      ['POSTGRES_PASSWORD', masked(p.password !== '', p.password.length)],
      ['POSTGRES_SSLMODE', p.sslmode],
      ['POSTGRES_SSLROOTCERT', p.sslRootCert ? `${p.sslRootCert.source}, ${p.sslRootCert.certificates} certificate(s)` : '<public CAs and the image\'s RDS bundle>'],
    );
  } else {
    lines.push(['target', `embedded PostgreSQL (data in ${p.dataDir})`]);
  }
  lines.push(
    ['POSTGRES_DATABASE', p.database],
    ['POSTGRES_SCHEMA', p.schema],
    ['LOG_LEVEL', c.logLevel],
    ['LOG_FORMAT', c.logFormat],
    ['LOOKBACK_HOURS', String(c.lookbackHours)],
    ['LOOKBACK_YEARS', String(c.lookbackYears)],
    ['LOOKFORWARD_DAYS', String(c.lookforwardDays)],
    ['BATCH_SIZE', String(c.batchSize)],
    ['SKIP_UNCHANGED_RECORDS', String(c.skipUnchangedRecords)],
    ['ENABLE_ASYMMETRIC_JOIN', String(c.enableAsymmetricJoin)],
    ['ENABLE_STALE_CLEANUP', String(c.enableStaleCleanup)],
    ['ENABLE_INSERT', String(c.enableInsert)],
    ['FAIL_ON_REJECTS', String(c.failOnRejects)],
    ['AS_OF', c.asOf?.text ?? '<warehouse session time>'],
    ['TIMEZONE', c.timezone ?? '<session default>'],
    ['RUN_REPORT_PATH', c.runReportPath ?? 'data/reports/<run start>.json'],
    ['EMAIL', c.email ? `${c.email.sender} -> ${c.email.recipients.join(', ')} (SES ${c.awsRegion})` : '<off>'],
    ['MAX_RUN_MINUTES', String(c.maxRunMinutes)],
    ['DRY_RUN', String(c.dryRun)],
    ['DRY_RUN_CHANGES_PATH', c.dryRunChangesPath ?? '<next to the run report>.changes.csv'],
  );
  return lines;
}

// ---- the maximum run time, and the names of every variable (for the deploy tool and CDK) ------

/** Default of MAX_RUN_MINUTES: far above a run's minutes, far below the next scheduled run. */
export const DEFAULT_MAX_RUN_MINUTES = 60;

/**
 * MAX_RUN_MINUTES (operations.md, "Schedule and failure detection": a run that exceeds a maximum
 * duration is stopped). A hung run would otherwise hold the lock and every later run exit 3.
 */
export function maxRunMinutes(env: Env): number {
  return wholeNumber(env, 'MAX_RUN_MINUTES', DEFAULT_MAX_RUN_MINUTES, 1);
}

/** Every variable loadConfig reads (operations.md, "Configuration"), besides ACTION. */
export const CONFIG_VARIABLES: readonly string[] = [
  'SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_WAREHOUSE', 'SNOWFLAKE_PRIVATE_KEY',
  'SNOWFLAKE_DATABASE', 'SNOWFLAKE_SCHEMA', 'SNOWFLAKE_ROLE', 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', 'SNOWFLAKE_ACCESS_URL',
  'DUCKDB_PATH', 'DUCKDB_MEMORY_LIMIT',
  'POSTGRES_HOST', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_PORT', 'POSTGRES_DATABASE', 'POSTGRES_SCHEMA',
  'POSTGRES_SSLMODE', 'POSTGRES_SSLROOTCERT', 'POSTGRES_DATA_DIR',
  'ENVIRONMENT', 'LOG_LEVEL', 'LOG_FORMAT',
  'LOOKBACK_HOURS', 'LOOKBACK_YEARS', 'LOOKFORWARD_DAYS', 'BATCH_SIZE',
  'SKIP_UNCHANGED_RECORDS', 'ENABLE_ASYMMETRIC_JOIN', 'ENABLE_STALE_CLEANUP', 'ENABLE_INSERT', 'FAIL_ON_REJECTS',
  'AS_OF', 'TIMEZONE', 'RUN_REPORT_PATH',
  'EMAIL_SENDER', 'EMAIL_RECIPIENTS', 'AWS_REGION',
  'DRY_RUN', 'DRY_RUN_CHANGES_PATH',
  'MAX_RUN_MINUTES',
];

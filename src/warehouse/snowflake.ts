// The production warehouse: one Snowflake session per run through the official snowflake-sdk
// (detection.md: every statement in one session, temporary tables live per session).
//
//  - Login: key-pair (JWT, authenticator SNOWFLAKE_JWT) with the normalised PKCS#8 PEM; role,
//    warehouse, database and schema from the configuration; QUERY_TAG naming the job and run;
//    then the session settings the SQL depends on pinned (sessionSettings(), ALTER SESSION).
//  - Result chunks as small as Snowflake makes them (CLIENT_RESULT_CHUNK_SIZE), so the driver's
//    memory fits the heap cap whatever the size of a result; the time the driver spends parsing
//    them is logged when the session closes (snowflakeChunks.ts).
//  - One connection, statements serialised in call order. A streamed result holds the session
//    only while its statement runs: its rows come from result chunks, read as the consumer asks
//    (back-pressure through statement.streamRows()), so the next statement may start meanwhile.
//  - cancel() (SIGTERM) aborts the running statement on the server and stops open streams;
//    close() logs the session out (connection.destroy()).
//  - Errors: one clear line each (snowflakeErrors.ts).
//
// SNOWFLAKE_ACCESS_URL (config.accessUrl), when set, is the endpoint the driver talks to instead of
// https://<account>.snowflakecomputing.com (the tests point it at a local stand-in of Snowflake's
// HTTP service, test/helpers/snowflakeStandIn.ts; it also serves PrivateLink-style URLs).
import type { Readable } from 'node:stream';
import type { Column, Connection, ConnectionOptions, RowStatement, SnowflakeLogger } from 'snowflake-sdk';
import type { SnowflakeConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { formatCount, type Logger } from '../log.js';
import { snowflakeText } from '../sqlText.js';
import { onlyRow } from './resultRow.js';
import { chunkParsingCounter } from './snowflakeChunks.js';
import { firstLine, SnowflakeError, toSnowflakeError, type SnowflakeErrorContext } from './snowflakeErrors.js';
import type { OpenWarehouseOptions, SqlParam, WarehouseRow, WarehouseSession, WarehouseValue } from './warehouse.js';

export { SnowflakeError } from './snowflakeErrors.js';

/** Knobs the tests turn; production uses the defaults. */
export interface SnowflakeTuning {
  /** Endpoint URL instead of https://<account>.snowflakecomputing.com (SNOWFLAKE_ACCESS_URL). */
  accessUrl?: string;
  /** Login retries on network errors and HTTP 5xx/429 (driver default 7, about 5 minutes): 3, about 15 s. */
  loginRetries?: number;
  /** Milliseconds one HTTP request may take before it counts as timed out (driver default 90 000). */
  requestTimeoutMs?: number;
  /** Result chunks fetched ahead of the one being read (driver default 2). */
  resultPrefetch?: number;
  /** Rows the driver's row stream buffers ahead of the consumer. */
  rowStreamHighWaterMark?: number;
}

const APPLICATION = 'conflict-updater';
/** Binds per INSERT statement: well under the stage-binding threshold (which would need a stage upload). */
const MAX_BINDS_PER_INSERT = 16_384;
/** Text per INSERT, about (a slice ends at the row that passes it): 16,384 packed values (the open rows' keys, tens of KB each) would make a request of hundreds of MB. */
const MAX_TEXT_PER_INSERT = 4 * 1024 * 1024;
/** Above any insert slice: array binds never go through a stage (CLIENT_STAGE_ARRAY_BINDING_THRESHOLD). */
const ARRAY_BINDING_THRESHOLD = 1_000_000;
/**
 * CLIENT_RESULT_CHUNK_SIZE (MB), the smallest Snowflake takes (16 to 160, default 160:
 * snowflake-connector-nodejs issue #790). The driver holds a chunk whole, as
 * text and then parsed, plus the chunks it prefetches; at the account default (160) a chunk of the
 * detected rows is ~16 MB compressed and ~100 MB of JSON, which a 256 MB heap cannot parse. At 16,
 * chunks are ~1.6 MB compressed (or, with the 2026_04 behaviour change, 16 MB uncompressed at most).
 */
const RESULT_CHUNK_SIZE_MB = 16;
/** How long close() and cancel() wait for Snowflake before giving up (SIGTERM: exit within 20 s). */
const GOODBYE_TIMEOUT_MS = 5_000;

// ------------------------------------------------------------------------------------------
// the session settings

/** A Snowflake session parameter and the value the job pins it to. */
export interface SessionSetting {
  readonly name: string;
  readonly value: string | boolean;
}

/**
 * The session settings the job's SQL depends on, pinned at the start of every session so an
 * account or user default cannot change a result (detection.md, "Session settings"):
 *  - QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE: the quoted mixed-case source columns resolve, and
 *    result aliases come back as written (TRUE upper-cases both);
 *  - TIMESTAMP_INPUT_FORMAT and DATE_INPUT_FORMAT = 'AUTO': the ISO literals of T, the windows
 *    and AS_OF read as ISO;
 *  - TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_NTZ': a plain TIMESTAMP is naive, as the source columns;
 *  - TIMEZONE, when configured (unset: the session keeps the account's zone, detection.md).
 * The query tag is the other pinned setting: sent at login as a session parameter and repeated on
 * every statement (SnowflakeSession.run).
 */
export function sessionSettings(timezone: string | undefined): readonly SessionSetting[] {
  const settings: SessionSetting[] = [
    { name: 'QUOTED_IDENTIFIERS_IGNORE_CASE', value: false },
    { name: 'TIMESTAMP_INPUT_FORMAT', value: 'AUTO' },
    { name: 'DATE_INPUT_FORMAT', value: 'AUTO' },
    { name: 'TIMESTAMP_TYPE_MAPPING', value: 'TIMESTAMP_NTZ' },
  ];
  if (timezone) settings.push({ name: 'TIMEZONE', value: timezone });
  return settings;
}

/** `ALTER SESSION SET name = value` (one setting per statement, so a refusal names its setting). */
export function alterSession(setting: SessionSetting): string {
  const value = typeof setting.value === 'boolean' ? (setting.value ? 'TRUE' : 'FALSE') : snowflakeText.str(setting.value);
  return `ALTER SESSION SET ${setting.name} = ${value}`;
}

// ------------------------------------------------------------------------------------------
// the driver module, loaded once and configured quietly

type Sdk = typeof import('snowflake-sdk');
let sdkPromise: Promise<Sdk> | undefined;
/** Where the driver's own (error-level) lines go: the log of the session opened last, at DEBUG. */
let driverLog: Logger | undefined;

const driverLogger: SnowflakeLogger = {
  error: (m) => driverLog?.debug(`snowflake-sdk: ${m}`),
  warn: (m) => driverLog?.debug(`snowflake-sdk: ${m}`),
  info: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
};

function loadSdk(): Promise<Sdk> {
  sdkPromise ??= (async () => {
    // The driver probes cloud metadata endpoints and calls AWS STS with the task's role when it
    // is loaded (telemetry only). A batch job has no use for that: off unless the operator says.
    process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
    const mod = (await import('snowflake-sdk')) as Sdk & { default?: Sdk };
    const sdk = mod.default ?? mod;
    // Quiet: no console lines, no snowflake.log file in the working directory; errors reach our
    // log at DEBUG (the driver masks secrets in them; our logger redacts known secret values too).
    sdk.configure({ logLevel: 'ERROR', customLogger: driverLogger, additionalLogToConsole: false });
    return sdk;
  })();
  return sdkPromise;
}

// ------------------------------------------------------------------------------------------
// values

interface SfDateLike {
  getEpochSeconds(): number;
  getNanoSeconds(): number;
  getTimezone(): unknown;
}

function isSfDate(v: unknown): v is SfDateLike {
  return typeof v === 'object' && v !== null && typeof (v as SfDateLike).getEpochSeconds === 'function';
}

/** `.123` from nanoseconds, trailing zeros trimmed (as DuckDB prints timestamps); '' for none. */
function fraction(nanos: number): string {
  if (!nanos) return '';
  return `.${String(Math.trunc(nanos)).padStart(9, '0').replace(/0+$/, '')}`;
}

/** Wall-clock epoch seconds as `YYYY-MM-DD HH:MM:SS`. */
function wallClock(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The offset of a zone at an instant, in seconds (TIMESTAMP_LTZ values shown in the session zone). */
function zoneOffsetSeconds(zone: string, epochSeconds: number): number {
  let fmt = zoneFormats.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(zone, fmt);
  }
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(new Date(epochSeconds * 1000))) p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000;
  return asUtc - Math.floor(epochSeconds);
}

type Convert = (v: unknown) => WarehouseValue;

const passNull = (f: Convert): Convert => (v) => (v === null || v === undefined ? null : f(v));

/**
 * The WarehouseRow contract (warehouse.ts) from a result column: text, number, boolean or NULL;
 * dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.fff…]` (NTZ as stored, LTZ in the
 * session's zone, TZ with its offset); NUMBER(p,0) with p ≤ 9 as a number, other NUMBERs as
 * exact text (NUMBER(38,0) is DuckDB's BIGINT, NUMBER(p,s) its DECIMAL: text there too),
 * FLOAT as a number. Numbers arrive as their exact text (fetchAsString 'Number').
 */
function converter(column: Column): Convert {
  const type = column.getType();
  switch (type) {
    case 'fixed': {
      const scale = column.getScale() ?? 0;
      const precision = column.getPrecision() ?? 38;
      if (scale === 0 && precision <= 9) return passNull((v) => Number(v));
      return passNull((v) => String(v));
    }
    case 'real':
      return passNull((v) => {
        const s = String(v).toLowerCase();
        if (s === 'inf' || s === 'infinity') return Infinity;
        if (s === '-inf' || s === '-infinity') return -Infinity;
        return Number(v);
      });
    case 'boolean':
      return passNull((v) => (typeof v === 'boolean' ? v : /^(1|true)$/i.test(String(v))));
    case 'date':
      return passNull((v) => (isSfDate(v) ? wallClock(v.getEpochSeconds()).slice(0, 10) : String(v)));
    case 'timestamp_ntz':
      return passNull((v) => (isSfDate(v) ? wallClock(v.getEpochSeconds()) + fraction(v.getNanoSeconds()) : String(v)));
    case 'timestamp_ltz':
      return passNull((v) => {
        if (!isSfDate(v)) return String(v);
        const zone = v.getTimezone();
        const s = v.getEpochSeconds();
        const offset = typeof zone === 'string' && zone !== '' ? zoneOffsetSeconds(zone, s) : 0;
        return wallClock(s + offset) + fraction(v.getNanoSeconds());
      });
    case 'timestamp_tz':
      return passNull((v) => {
        if (!isSfDate(v)) return String(v);
        const zone = v.getTimezone();
        const s = v.getEpochSeconds();
        const offsetMin = typeof zone === 'number' ? zone : typeof zone === 'string' ? zoneOffsetSeconds(zone, s) / 60 : 0;
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        return wallClock(s + offsetMin * 60) + fraction(v.getNanoSeconds()) + off;
      });
    case 'text':
      return passNull((v) => String(v));
    default:
      // time (already text), variant (raw JSON text via fetchAsString 'JSON'), binary (hex
      // via 'Buffer'), object/array/map: text.
      return passNull((v) => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  }
}

/**
 * Array binding (one VALUES row, one array per column) labels each column with the type of its
 * first row's value and sends every value as text. A column that mixes kinds of numbers (an
 * integer first, a fraction later, labelled FIXED) or numbers and booleans travels labelled as
 * text instead, which Snowflake casts to the column's type on insert.
 */
function arrayBinds(rows: readonly (readonly SqlParam[])[], width: number): SqlParam[][] {
  const textColumns: number[] = [];
  for (let c = 0; c < width; c++) {
    const kinds = new Set<string>();
    for (const row of rows) {
      const v = row[c];
      if (typeof v === 'number') kinds.add(Number.isInteger(v) ? 'int' : 'real');
      else if (typeof v === 'boolean') kinds.add('boolean');
    }
    if (kinds.size > 1) textColumns.push(c);
  }
  return rows.map((row) => {
    if (row.length !== width) throw new Error(`insertRows: a row has ${row.length} values for ${width} columns`);
    if (!textColumns.length) return row as SqlParam[];
    const out = row.slice();
    for (const c of textColumns) if (out[c] !== null && typeof out[c] !== 'string') out[c] = String(out[c]);
    return out;
  });
}

// ------------------------------------------------------------------------------------------
// the session

interface Running {
  statement: RowStatement;
  sql: string;
}

/** A result being read: cancel() and close() end it with `failure`. */
interface OpenStream {
  rs: Readable;
  failure: unknown;
  wake: (() => void) | undefined;
}

class SnowflakeSession implements WarehouseSession {
  readonly dialect = 'snowflake' as const;
  private tail: Promise<void> = Promise.resolve();
  private running: Running | undefined;
  private readonly streams = new Set<OpenStream>();
  /** Bumped by cancel(): statements queued before it do not start. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly connection: Connection,
    private readonly ctx: SnowflakeErrorContext,
    private readonly log: Logger,
    private readonly queryTag: string | undefined,
    private readonly parsing: ReturnType<typeof chunkParsingCounter>,
  ) {}

  /** Wait for the session: statements run one at a time, in call order. */
  private async acquire(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => mine);
    const generation = this.generation;
    await before;
    if (generation !== this.generation) {
      release();
      throw new SnowflakeError('Snowflake statement not started: the session was cancelled', 'cancelled');
    }
    if (this.closed) {
      release();
      throw new SnowflakeError('Snowflake session is closed', 'session');
    }
    return release;
  }

  /** Run one statement; resolves when Snowflake has finished it (rows not fetched yet). */
  private run(sql: string, binds: readonly SqlParam[] | readonly SqlParam[][] | undefined): Promise<RowStatement> {
    const started = Date.now();
    return new Promise<RowStatement>((resolve, reject) => {
      let statement: RowStatement;
      try {
        statement = this.connection.execute({
          sqlText: sql,
          binds: binds && binds.length ? (binds as SqlParam[]) : undefined,
          streamResult: true,
          rowMode: 'array',
          fetchAsString: ['Number', 'JSON', 'Buffer'],
          // The tag is a session parameter from the login already; snowflake-sdk 3.3 means to repeat
          // it on every statement but drops it when no parameters are given: give them.
          parameters: this.queryTag ? { QUERY_TAG: this.queryTag } : undefined,
          complete: (err, stmt) => {
            if (this.running?.statement === stmt) this.running = undefined;
            if (err) {
              const mapped = toSnowflakeError(err, { ...this.ctx, sql }, 'statement');
              this.log.debug(`Snowflake statement failed after ${Date.now() - started} ms: ${mapped.message}`);
              reject(mapped);
              return;
            }
            this.log.debug(`Snowflake ${firstLine(sql)} (${Date.now() - started} ms, query ${stmt.getQueryId()})`);
            resolve(stmt as RowStatement);
          },
        }) as RowStatement;
      } catch (err) {
        reject(toSnowflakeError(err, { ...this.ctx, sql }, 'statement'));
        return;
      }
      this.running = { statement, sql };
    });
  }

  async version(): Promise<string> {
    const rows = await this.query('SELECT CURRENT_VERSION() AS "version"');
    return String(onlyRow('Snowflake version', rows)('version'));
  }

  async execute(sql: string, params: readonly SqlParam[] = []): Promise<number | undefined> {
    const release = await this.acquire();
    try {
      const stmt = await this.run(sql, params);
      return updatedRows(stmt);
    } finally {
      release();
    }
  }

  async query(sql: string, params: readonly SqlParam[] = []): Promise<Array<Record<string, WarehouseValue>>> {
    const out: Array<Record<string, WarehouseValue>> = [];
    let names: string[] | undefined;
    for await (const batch of this.rows(sql, params, 1000, (cols) => (names = cols.map((c) => c.getName())))) {
      for (const row of batch) {
        const o: Record<string, WarehouseValue> = {};
        row.forEach((v, i) => (o[names![i]] = v));
        out.push(o);
      }
    }
    return out;
  }

  stream(sql: string, params: readonly SqlParam[], batchSize: number): AsyncIterable<WarehouseRow[]> {
    return this.rows(sql, params, batchSize);
  }

  /**
   * Rows in batches of `batchSize`, read from the driver's row stream only as the consumer asks
   * (the stream pauses when nobody reads, and the driver fetches a result chunk only when its
   * rows are needed, a few ahead at most).
   */
  private async *rows(
    sql: string,
    params: readonly SqlParam[],
    batchSize: number,
    onColumns?: (columns: Column[]) => void,
  ): AsyncGenerator<WarehouseRow[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a whole number, at least 1 (got ${batchSize})`);
    const release = await this.acquire();
    let stmt: RowStatement;
    try {
      stmt = await this.run(sql, params);
    } finally {
      release();
    }
    const columns = stmt.getColumns() ?? [];
    onColumns?.(columns);
    const convert = columns.map(converter);
    const width = convert.length;

    const rs = stmt.streamRows();
    const handle: OpenStream = { rs, failure: undefined, wake: undefined };
    this.streams.add(handle);
    let ended = false;
    const signal = () => {
      const w = handle.wake;
      handle.wake = undefined;
      w?.();
    };
    rs.on('readable', signal);
    rs.on('end', () => {
      ended = true;
      signal();
    });
    rs.on('error', (err) => {
      handle.failure ??= err;
      signal();
    });
    rs.on('close', () => {
      if (!ended) handle.failure ??= new SnowflakeError(`Snowflake result stream closed early: ${firstLine(sql)}`, 'driver');
      signal();
    });
    try {
      let batch: WarehouseRow[] = [];
      for (;;) {
        if (handle.failure !== undefined) throw toSnowflakeError(handle.failure, { ...this.ctx, sql }, 'statement');
        let raw: unknown[] | null;
        while (batch.length < batchSize && (raw = rs.read() as unknown[] | null) !== null) {
          const row: WarehouseRow = new Array(width);
          for (let i = 0; i < width; i++) row[i] = convert[i](raw[i]);
          batch.push(row);
        }
        if (batch.length >= batchSize) {
          const full = batch;
          batch = [];
          yield full; // the driver's stream stays paused until the consumer asks again
          continue;
        }
        if (handle.failure !== undefined) continue;
        if (ended) break;
        await new Promise<void>((r) => {
          handle.wake = r;
          // 'readable' may have fired between read() returning null and here
          if (rs.readableLength > 0 || ended || handle.failure !== undefined) signal();
        });
      }
      if (batch.length) yield batch;
    } finally {
      this.streams.delete(handle);
      if (!ended) rs.destroy();
    }
  }

  async insertRows(table: string, columns: readonly string[], rows: readonly (readonly SqlParam[])[]): Promise<void> {
    if (rows.length === 0) return;
    const width = columns.length;
    if (width === 0) throw new Error('insertRows: no columns');
    const per = Math.max(1, Math.floor(MAX_BINDS_PER_INSERT / width));
    const sql = `INSERT INTO ${table} (${columns.map(snowflakeText.ident).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    const release = await this.acquire();
    try {
      for (let i = 0; i < rows.length; ) {
        let end = i;
        let text = 0;
        while (end < rows.length && end - i < per && (end === i || text < MAX_TEXT_PER_INSERT)) {
          for (const v of rows[end]) text += typeof v === 'string' ? v.length : 8;
          end++;
        }
        // Array binding: one row of placeholders, one bound array per column (Snowflake inserts them all).
        await this.run(sql, arrayBinds(rows.slice(i, end), width));
        i = end;
      }
    } finally {
      release();
    }
  }

  async cancel(): Promise<void> {
    this.generation++;
    for (const h of this.streams) {
      h.failure ??= new SnowflakeError('Snowflake result stream cancelled', 'cancelled');
      h.rs.destroy();
      h.wake?.();
    }
    const running = this.running;
    if (!running) return;
    this.log.info(`Cancelling the running Snowflake statement: ${firstLine(running.sql)}`);
    await withTimeout(
      new Promise<void>((resolve) => {
        running.statement.cancel((err) => {
          if (err) this.log.warn(`Snowflake did not confirm the cancel: ${toSnowflakeError(err, this.ctx, 'statement').message}`);
          resolve();
        });
      }),
      GOODBYE_TIMEOUT_MS,
      () => this.log.warn(`Snowflake did not answer the cancel within ${GOODBYE_TIMEOUT_MS / 1000}s`),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const p = this.parsing.read();
    if (p && p.chunks > 0) {
      // The job's own CPU cost of the big results: the driver's JSON.parse of each chunk and its row objects.
      this.log.info(
        `Snowflake result chunks: ${formatCount(p.chunks)} parsed (${formatCount(Math.round(p.chars / 1e6))} MB of JSON, ` +
          `${formatCount(p.rows)} rows) in ${p.seconds.toFixed(1)}s`,
        { chunks: p.chunks, chunkMegabytes: Math.round(p.chars / 1e6), chunkRows: p.rows, chunkParseSeconds: Number(p.seconds.toFixed(3)) },
      );
    }
    for (const h of this.streams) {
      h.failure ??= new SnowflakeError('Snowflake session closed while a result was being read', 'session');
      h.rs.destroy();
      h.wake?.();
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        try {
          this.connection.destroy((err) => {
            if (err) this.log.debug(`Snowflake logout: ${toSnowflakeError(err, this.ctx, 'close').message}`);
            resolve();
          });
        } catch (err) {
          this.log.debug(`Snowflake logout: ${toSnowflakeError(err, this.ctx, 'close').message}`);
          resolve();
        }
      }),
      GOODBYE_TIMEOUT_MS,
      () => this.log.warn(`Snowflake did not answer the logout within ${GOODBYE_TIMEOUT_MS / 1000}s; closing anyway`),
    );
  }
}

function updatedRows(stmt: RowStatement): number | undefined {
  try {
    const n = stmt.getNumUpdatedRows();
    return typeof n === 'number' && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function withTimeout(p: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
    timer.unref();
  });
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL messages name: the configured access URL, or the account's default host. */
function endpoint(config: SnowflakeConfig, accessUrl: string | undefined): string {
  return accessUrl ?? `https://${config.account}.snowflakecomputing.com`;
}

/** The driver's argument checks (sync errors) name an option; say which variable it came from. */
function optionError(err: unknown, config: SnowflakeConfig): Error {
  const msg = String((err as { message?: unknown })?.message ?? err);
  const variable = /account/i.test(msg)
    ? `SNOWFLAKE_ACCOUNT "${config.account}"`
    : /private key/i.test(msg)
      ? 'SNOWFLAKE_PRIVATE_KEY'
      : /access ?url/i.test(msg)
        ? 'SNOWFLAKE_ACCESS_URL'
        : /query ?tag/i.test(msg)
          ? 'the query tag'
          : 'the Snowflake configuration';
  return new ConfigError(`Snowflake rejected ${variable}: ${msg.replace(/\s+/g, ' ').trim()}`);
}

/** openWarehouse's entry point: SnowflakeConfig + run options → a logged-in session. */
export async function openSnowflake(config: SnowflakeConfig, opts: OpenWarehouseOptions): Promise<WarehouseSession> {
  return openSnowflakeSession(config, opts, { accessUrl: config.accessUrl });
}

/** openSnowflake with the tests' knobs. */
export async function openSnowflakeSession(
  config: SnowflakeConfig,
  opts: OpenWarehouseOptions,
  tuning: SnowflakeTuning = {},
): Promise<WarehouseSession> {
  const sdk = await loadSdk();
  driverLog = opts.log;
  const ctx: SnowflakeErrorContext = { account: config.account, user: config.user, url: endpoint(config, tuning.accessUrl) };

  const options: ConnectionOptions & Record<string, unknown> = {
    account: config.account,
    username: config.user,
    authenticator: 'SNOWFLAKE_JWT',
    privateKey: config.privateKey.pem,
    warehouse: config.warehouse,
    database: config.database,
    schema: config.schema,
    application: APPLICATION,
    jsTreatIntegerAsBigInt: false,
    // The driver's default gives a NULL fetched as a string (fetchAsString: every number) as the
    // text 'NULL'; a NULL must stay NULL (warehouse.ts).
    representNullAsStringNull: false,
    arrayBindingThreshold: ARRAY_BINDING_THRESHOLD,
    clientSessionKeepAlive: false,
    sfRetryMaxLoginRetries: tuning.loginRetries ?? 3,
    rowStreamHighWaterMark: tuning.rowStreamHighWaterMark ?? 1000,
  };
  if (config.role) options.role = config.role;
  const queryTag = opts.queryTag ? opts.queryTag.slice(0, 2000) : undefined;
  if (queryTag) options.queryTag = queryTag;
  if (tuning.accessUrl) options.accessUrl = tuning.accessUrl;
  if (tuning.requestTimeoutMs !== undefined) options.timeout = tuning.requestTimeoutMs;
  if (tuning.resultPrefetch !== undefined) options.resultPrefetch = tuning.resultPrefetch;

  let connection: Connection;
  try {
    connection = sdk.createConnection(options);
  } catch (err) {
    throw optionError(err, config);
  }

  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    try {
      connection.connect((err) => (err ? reject(toSnowflakeError(err, ctx, 'login')) : resolve()));
    } catch (err) {
      reject(toSnowflakeError(err, ctx, 'login'));
    }
  });
  opts.log.debug(
    `Snowflake session opened in ${Date.now() - started} ms: account ${config.account}, user ${config.user}, ` +
      `role ${config.role ?? '<default>'}, warehouse ${config.warehouse}, database ${config.database}, schema ${config.schema}`,
  );

  const session = new SnowflakeSession(connection, ctx, opts.log, queryTag, chunkParsingCounter());
  try {
    await session.execute(`ALTER SESSION SET CLIENT_RESULT_CHUNK_SIZE = ${RESULT_CHUNK_SIZE_MB}`);
  } catch (err) {
    // A tuning the account refuses is no reason not to run: the run goes on with larger chunks.
    opts.log.warn(
      `Snowflake refused CLIENT_RESULT_CHUNK_SIZE = ${RESULT_CHUNK_SIZE_MB} (${err instanceof Error ? err.message : String(err)}): ` +
        'result chunks keep the account default, and a large result may need more memory than the heap cap allows',
    );
  }
  for (const setting of sessionSettings(opts.timezone)) {
    try {
      await session.execute(alterSession(setting));
    } catch (err) {
      await session.close();
      throw err instanceof SnowflakeError
        ? new SnowflakeError(`${setting.name} "${String(setting.value)}": ${err.message}`, err.kind, err.code, err.sqlState, err.queryId)
        : err;
    }
  }
  return session;
}

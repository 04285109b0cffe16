// A LOCAL STAND-IN for Snowflake's HTTP service, for tests only. It is not Snowflake: it runs no
// SQL. It speaks enough of the wire protocol for the real snowflake-sdk driver to log in, run
// statements, download result chunks, cancel and log out, and it records what the driver sent,
// so tests can check what would reach a real account:
//
//   POST /session/v1/login-request     key-pair login: verifies the JWT the driver signs (RS256
//                                      with the configured public key, iss ACCOUNT.USER.SHA256:fp,
//                                      sub ACCOUNT.USER); answers the token, master token and
//                                      session parameters, or Global Services' refusal codes
//   POST /queries/v1/query-request     records the statement (session token, binds, parameters
//                                      such as QUERY_TAG) and answers with a JSON result
//                                      (rowtype + rowset, and for large results `chunks` URLs
//                                      plus `qrmk`, as Snowflake does; the Node driver only gets
//                                      queryResultFormat "json"), an error, or an in-progress code
//   GET  /queries/<id>/result          the result of a statement answered "in progress" (333333)
//   GET  /stand-in-chunks/<id>/<n>     a result chunk, generated when asked (lazily, like S3),
//                                      gzip-compressed, checked for the SSE-C key header
//   POST /queries/v1/abort-request     cancel by request id (and /queries/<id>/abort-request)
//   POST /session?delete=true          logout
//   POST /session/heartbeat, /telemetry/send, /session/token-request: answered with success
//
// Statements are answered by handlers the test registers (`on(match, reply)`) first. Then, with a
// `warehouse` (an executor: snowflakeStandInWarehouse.ts), a statement is run for real: the
// executor finds the DuckDB twin of the Snowflake statement and runs it on a warehouse file, one
// DuckDB connection per session, and the result comes back in Snowflake's JSON result format, the
// first rows inline and the rest in gzip chunks that grow up to the session's
// CLIENT_RESULT_CHUNK_SIZE, as the service sends them. Without either, DDL, DML, ALTER SESSION and
// SELECT CURRENT_VERSION() get Snowflake-like defaults and any other SELECT is a compilation
// error, so an unexpected statement shows up.
// ALTER SESSION sets the session's parameters (sessionParameters()); with
// QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE (an account default, `accountParameters`) result column
// names come back upper-case, as Snowflake's.
import { createHash, createPublicKey, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// wire values: what Snowflake's JSON result format carries (every value a string or null)

export type WireValue = string | null;

/** Helpers that turn readable values into the JSON result format's text. */
export const wire = {
  text: (s: string | null): WireValue => s,
  fixed: (n: number | bigint | string | null): WireValue => (n === null ? null : String(n)),
  real: (n: number | null): WireValue => (n === null ? null : String(n)),
  bool: (b: boolean | null): WireValue => (b === null ? null : b ? '1' : '0'),
  /** DATE: days since 1970-01-01. */
  date: (ymd: string | null): WireValue => (ymd === null ? null : String(Math.round(Date.parse(`${ymd}T00:00:00Z`) / 86_400_000))),
  /** TIMESTAMP_NTZ(9): wall-clock seconds since the epoch, nine fraction digits. */
  ntz: (wall: string | null): WireValue => (wall === null ? null : epochText(wall, 'Z')),
  /** TIMESTAMP_LTZ(9): the instant, seconds since the epoch. */
  ltz: (instant: string | null): WireValue => (instant === null ? null : epochText(instant, '')),
  /** TIMESTAMP_TZ(9): wall-clock seconds (UTC of the instant) and the offset index (minutes + 1440). */
  tz: (instant: string | null, offsetMinutes: number): WireValue =>
    instant === null ? null : `${epochText(instant, '')} ${offsetMinutes + 1440}`,
};

function epochText(s: string, zone: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) throw new Error(`stand-in: not a timestamp: ${s}`);
  const seconds = Date.parse(`${m[1]}T${m[2]}${m[4] ?? zone}`) / 1000;
  if (!Number.isFinite(seconds)) throw new Error(`stand-in: not a timestamp: ${s}`);
  return `${seconds}.${(m[3] ?? '').padEnd(9, '0')}`;
}

export interface ColumnSpec {
  name: string;
  type: 'text' | 'fixed' | 'real' | 'boolean' | 'date' | 'time' | 'timestamp_ntz' | 'timestamp_ltz' | 'timestamp_tz' | 'variant' | 'binary';
  scale?: number;
  precision?: number;
  nullable?: boolean;
}

export const col = (name: string, type: ColumnSpec['type'], extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, type, ...extra });

function rowtype(c: ColumnSpec) {
  const temporal = c.type.startsWith('timestamp') || c.type === 'time';
  return {
    name: c.name,
    database: '',
    schema: '',
    table: '',
    type: c.type,
    nullable: c.nullable ?? true,
    scale: c.type === 'fixed' ? (c.scale ?? 0) : temporal ? (c.scale ?? 9) : null,
    precision: c.type === 'fixed' ? (c.precision ?? 38) : temporal ? 0 : null,
    length: c.type === 'text' || c.type === 'variant' ? 16_777_216 : null,
    byteLength: c.type === 'text' ? 16_777_216 : null,
    collation: null,
  };
}

// ---------------------------------------------------------------------------------------------
// replies

export type Reply =
  /** A small result, all rows inline. */
  | { columns: ColumnSpec[]; rows: WireValue[][]; delayMs?: number; pendingPolls?: number }
  /** A large result: `rowCount` rows made by `row(i)` when their chunk is downloaded. */
  | {
      columns: ColumnSpec[];
      rowCount: number;
      row: (i: number) => WireValue[];
      chunkRows: number;
      /** Rows in the first response itself (Snowflake sends the first part inline). */
      inlineRows?: number;
      delayMs?: number;
    }
  /**
   * A result computed before the answer, as Snowflake stores it: the first rows inline (`inline`:
   * their JSON texts joined by commas), the rest in gzip chunks of the JSON chunk format.
   */
  | { columns: ColumnSpec[]; inline: string; inlineRows: number; chunks: StoredChunk[]; delayMs?: number }
  /** A failed statement, as Global Services reports it. */
  | { error: { code: string; message: string; sqlState: string }; delayMs?: number }
  /** DML: the rows changed. */
  | { dml: 'insert' | 'update' | 'delete' | 'merge'; count: number; delayMs?: number }
  /** A statement that runs until it is cancelled (abort-request) or the stand-in stops. */
  | { hang: true };

/** A result chunk as stored (S3 in the service): gzip of the rows' JSON texts joined by commas. */
export interface StoredChunk {
  body: Buffer;
  rowCount: number;
  uncompressedSize: number;
}

/**
 * Runs statements for real for one Snowflake session (snowflakeStandInWarehouse.ts). `run` answers
 * undefined for a statement it has no way to run (the stand-in then says so, as a compilation
 * error).
 */
export interface SessionExecutor {
  run(stmt: RecordedStatement, parameters: Readonly<Record<string, string | number | boolean>>): Promise<Reply | undefined>;
  /** Stop the statement running now (abort-request). */
  interrupt(): void;
  close(): Promise<void>;
}

export interface StatementExecutor {
  /** A session logged in: its parameters (TIMEZONE…) as the stand-in holds them. */
  open(parameters: Readonly<Record<string, string | number | boolean>>): SessionExecutor;
}

export interface RecordedStatement {
  sql: string;
  /** The bind map the driver sent (`{"1": {type, value}}`), as received. */
  bindings: Record<string, { type: string; value: unknown }> | undefined;
  /** Statement-level parameters (the driver sends QUERY_TAG here). */
  parameters: Record<string, unknown> | undefined;
  sessionToken: string | undefined;
  requestId: string | null;
  queryId: string;
  at: number;
}

export interface RecordedLogin {
  /** warehouse, databaseName, schemaName, roleName from the login URL. */
  query: Record<string, string>;
  accountName: unknown;
  loginName: unknown;
  authenticator: unknown;
  clientAppId: unknown;
  sessionParameters: Record<string, unknown>;
  jwt: { header: Record<string, unknown>; payload: Record<string, unknown>; signatureValid: boolean } | undefined;
  /** The raw JWT (a signed, short-lived token: never key material). */
  token: string | undefined;
  outcome: 'ok' | 'bad-jwt' | 'locked' | 'disabled' | 'expired' | 'unknown-account';
}

export interface ChunkRequest {
  queryId: string;
  index: number;
  at: number;
}

export interface StandInOptions {
  /** The account (as the driver sends it: without region) and user the stand-in knows. */
  account: string;
  user: string;
  /** The RSA public key registered for the user (Snowflake's RSA_PUBLIC_KEY). */
  publicKey: KeyObject | string;
  /** The user's state: a locked, disabled or expired user cannot log in. */
  userState?: 'active' | 'locked' | 'disabled' | 'expired';
  /** CURRENT_VERSION(). */
  version?: string;
  /** The account's default TIMEZONE (Snowflake's default is America/Los_Angeles). */
  defaultTimezone?: string;
  /** Other account defaults of session parameters (QUOTED_IDENTIFIERS_IGNORE_CASE: true…). */
  accountParameters?: Record<string, string | number | boolean>;
  /** HTTP status for a login to an account the stand-in does not know. */
  unknownAccountStatus?: 403 | 404;
  /** Runs the statements no handler answers (snowflakeStandInWarehouse.ts). */
  warehouse?: StatementExecutor;
  /**
   * A statement still running after this long is answered "in progress" (333333) and the driver
   * polls for it, as Snowflake does for long statements (default 20 s).
   */
  asyncAfterMs?: number;
}

interface Session {
  token: string;
  masterToken: string;
  id: number;
  parameters: Record<string, string | number | boolean>;
  database?: string;
  schema?: string;
  warehouse?: string;
  role?: string;
  closed: boolean;
  executor?: SessionExecutor;
  /** The statements still running (by query id), answered "in progress". */
  running: Map<string, { requestId: string | null; body: Promise<unknown> }>;
}

interface Pending {
  requestId: string | null;
  queryId: string;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

interface Matcher {
  match: (sql: string) => boolean;
  reply: Reply | ((stmt: RecordedStatement) => Reply);
}

interface LargeResult {
  /** The gzip body of chunk `index`, or undefined when there is no such chunk. */
  chunk: (index: number) => Buffer | undefined;
  qrmk: string;
  /** The session token of the statement: its results go when it logs out. */
  owner: string;
}

// Statement type ids of the JSON result (the driver counts updated rows for 0x3xxx).
const TYPE_SELECT = 0x1000;
const TYPE_DML: Record<string, number> = { insert: 0x3100, update: 0x3200, delete: 0x3300, merge: 0x3400 };

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  let buf = Buffer.concat(parts);
  if (buf.length === 0) return undefined;
  if (req.headers['content-encoding'] === 'gzip' || (buf[0] === 0x1f && buf[1] === 0x8b)) buf = gunzipSync(buf);
  return JSON.parse(buf.toString('utf8'));
}

/** A public KeyObject from a KeyObject (public or private) or a PEM. */
function asPublicKey(key: KeyObject | string): KeyObject {
  return typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
}

function b64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** SHA256:<base64> of the SPKI DER, as Snowflake shows RSA_PUBLIC_KEY_FP. */
export function publicKeyFingerprint(key: KeyObject | string): string {
  const der = asPublicKey(key).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

export class SnowflakeStandIn {
  readonly logins: RecordedLogin[] = [];
  readonly statements: RecordedStatement[] = [];
  readonly chunkRequests: ChunkRequest[] = [];
  readonly aborts: Array<{ requestId?: string; queryId?: string; at: number }> = [];
  readonly logouts: Array<{ sessionToken: string | undefined; at: number }> = [];
  readonly telemetry: unknown[] = [];
  /** Query ids of the result polls (GET /queries/<id>/result), in order. */
  readonly polls: string[] = [];
  /** Called when a chunk is requested, before it is generated (tests note what was consumed by then). */
  onChunkRequest: ((req: ChunkRequest) => void) | undefined;
  /** An HTTP status to answer a chunk request with instead of the chunk (storage failures). */
  chunkStatus: ((req: ChunkRequest) => number | undefined) | undefined;

  private readonly server: Server;
  private readonly sessions = new Map<string, Session>();
  private readonly matchers: Matcher[] = [];
  private readonly large = new Map<string, LargeResult>();
  private readonly inProgress = new Map<string, { remaining: number; body: unknown }>();
  private readonly pending = new Set<Pending>();
  private readonly publicKey: KeyObject;
  private nextSessionId = 1_000;
  url = '';

  private constructor(readonly options: StandInOptions) {
    this.publicKey = asPublicKey(options.publicKey);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { success: false, message: `stand-in failure: ${String(err)}` });
        else res.destroy();
      });
    });
  }

  static async start(options: StandInOptions): Promise<SnowflakeStandIn> {
    const s = new SnowflakeStandIn(options);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** Answer statements matching `match` (a regular expression on the SQL text, or a predicate). */
  on(match: RegExp | ((sql: string) => boolean), reply: Reply | ((stmt: RecordedStatement) => Reply)): this {
    this.matchers.unshift({ match: typeof match === 'function' ? match : (sql) => match.test(sql), reply });
    return this;
  }

  /** The session parameters Snowflake holds for the session with this token (TIMEZONE, QUERY_TAG…). */
  sessionParameters(token: string): Record<string, string | number | boolean> | undefined {
    return this.sessions.get(token)?.parameters;
  }

  /** Tokens of the sessions logged in so far. */
  get sessionTokens(): string[] {
    return [...this.sessions.keys()];
  }

  async close(): Promise<void> {
    for (const p of this.pending) {
      clearTimeout(p.timer);
      if (!p.res.headersSent) json(p.res, 200, this.errorBody(p.queryId, '000605', 'Stand-in stopped.', '57014'));
    }
    this.pending.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    if (req.method === 'POST' && path === '/session/v1/login-request') return this.login(req, res, url);
    if (req.method === 'GET' && path.startsWith('/stand-in-chunks/')) return this.chunk(req, res, path);
    const token = /Snowflake Token="([^"]*)"/.exec(String(req.headers.authorization ?? ''))?.[1];
    const body = await readBody(req);
    if (req.method === 'POST' && path === '/telemetry/send') {
      this.telemetry.push(body);
      return json(res, 200, { success: true, data: 'Log Received', code: null, message: null });
    }
    const session = token !== undefined ? this.sessions.get(token) : undefined;
    if (!session || session.closed) {
      return json(res, 200, { success: false, code: '390104', message: 'Session token is invalid or has expired.', data: null });
    }
    if (req.method === 'POST' && path === '/queries/v1/query-request') return this.query(res, url, body, token);
    const resultPath = /^\/queries\/([^/]+)\/result$/.exec(path);
    if (req.method === 'GET' && resultPath) return this.pollResult(res, session, resultPath[1]);
    const abortPath = /^\/queries\/([^/]+)\/abort-request$/.exec(path);
    if (req.method === 'POST' && (path === '/queries/v1/abort-request' || abortPath)) {
      const requestId = (body as { requestId?: string } | undefined)?.requestId;
      const queryId = abortPath?.[1];
      this.aborts.push({ requestId, queryId, at: Date.now() });
      this.abort(requestId, queryId);
      for (const [id, r] of session.running) if ((requestId && r.requestId === requestId) || id === queryId) session.executor?.interrupt();
      return json(res, 200, { success: true, code: null, message: null, data: null });
    }
    if (req.method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') {
      this.logouts.push({ sessionToken: token, at: Date.now() });
      session.closed = true;
      for (const [id, r] of this.large) if (r.owner === token) this.large.delete(id);
      await session.executor?.close();
      return json(res, 200, { success: true, code: null, message: null, data: null });
    }
    if (req.method === 'POST' && (path === '/session/heartbeat' || path === '/session/token-request')) {
      return json(res, 200, {
        success: true,
        code: null,
        message: null,
        data: path === '/session/heartbeat' ? {} : { sessionToken: token, validityInSecondsST: 3600, masterToken: session.masterToken, validityInSecondsMT: 14_400 },
      });
    }
    json(res, 404, { success: false, code: null, message: `stand-in: no ${req.method} ${path}` });
  }

  private async login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = (await readBody(req)) as { data?: Record<string, unknown> } | undefined;
    const data = body?.data ?? {};
    const sessionParameters = (data.SESSION_PARAMETERS ?? {}) as Record<string, unknown>;
    const query: Record<string, string> = {};
    for (const k of ['warehouse', 'databaseName', 'schemaName', 'roleName']) {
      const v = url.searchParams.get(k);
      if (v !== null) query[k] = v;
    }
    const token = typeof data.TOKEN === 'string' ? data.TOKEN : undefined;
    const record: RecordedLogin = {
      query,
      accountName: data.ACCOUNT_NAME,
      loginName: data.LOGIN_NAME,
      authenticator: data.AUTHENTICATOR,
      clientAppId: data.CLIENT_APP_ID,
      sessionParameters,
      jwt: undefined,
      token,
      outcome: 'ok',
    };
    this.logins.push(record);

    const account = this.options.account.toUpperCase();
    const user = this.options.user.toUpperCase();
    if (String(data.ACCOUNT_NAME ?? '').toUpperCase() !== account) {
      // Snowflake routes by host name: an unknown account has no login endpoint.
      record.outcome = 'unknown-account';
      res.writeHead(this.options.unknownAccountStatus ?? 404, { 'Content-Type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
      return;
    }

    let jwtOk = false;
    if (token) {
      const parts = token.split('.');
      if (parts.length === 3) {
        try {
          const header = b64urlJson(parts[0]);
          const payload = b64urlJson(parts[1]);
          const signatureValid =
            header.alg === 'RS256' &&
            verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'));
          record.jwt = { header, payload, signatureValid };
          jwtOk =
            signatureValid &&
            payload.iss === `${account}.${user}.${publicKeyFingerprint(this.publicKey)}` &&
            payload.sub === `${account}.${user}` &&
            String(data.LOGIN_NAME ?? '').toUpperCase() === user;
        } catch {
          jwtOk = false;
        }
      }
    }
    if (!jwtOk || data.AUTHENTICATOR !== 'SNOWFLAKE_JWT') {
      record.outcome = 'bad-jwt';
      return json(res, 200, {
        data: { nextAction: 'RETRY_LOGIN', authnMethod: 'KEY_PAIR', signInOptions: {} },
        code: '390144',
        message: `JWT token is invalid. [${randomUUID()}]`,
        success: false,
        headers: null,
      });
    }
    // The stand-in's codes for users who cannot log in; the messages are Snowflake's wording.
    const refusals = {
      locked: ['390101', 'User temporarily locked.'],
      disabled: ['390102', 'User is disabled. Contact your local system administrator.'],
      expired: ['390106', 'User has expired. Contact your local system administrator.'],
    } as const;
    const state = this.options.userState ?? 'active';
    if (state !== 'active') {
      record.outcome = state;
      const [code, message] = refusals[state];
      return json(res, 200, { data: { nextAction: 'RETRY_LOGIN', authnMethod: 'KEY_PAIR' }, code, message, success: false, headers: null });
    }

    const session: Session = {
      token: `stand-in-session-${randomBytes(12).toString('hex')}`,
      masterToken: `stand-in-master-${randomBytes(12).toString('hex')}`,
      id: this.nextSessionId++,
      parameters: {
        TIMEZONE: this.options.defaultTimezone ?? 'America/Los_Angeles',
        TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM',
        TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
        TIMESTAMP_LTZ_OUTPUT_FORMAT: '',
        TIMESTAMP_TZ_OUTPUT_FORMAT: '',
        DATE_OUTPUT_FORMAT: 'YYYY-MM-DD',
        TIME_OUTPUT_FORMAT: 'HH24:MI:SS',
        BINARY_OUTPUT_FORMAT: 'HEX',
        CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 65_280,
        CLIENT_RESULT_CHUNK_SIZE: 160,
        QUERY_CONTEXT_CACHE_SIZE: 5,
        ...this.options.accountParameters,
      },
      database: query.databaseName,
      schema: query.schemaName,
      warehouse: query.warehouse,
      role: query.roleName,
      closed: false,
      running: new Map(),
    };
    if (typeof sessionParameters.QUERY_TAG === 'string') session.parameters.QUERY_TAG = sessionParameters.QUERY_TAG;
    this.sessions.set(session.token, session);
    session.executor = this.options.warehouse?.open(session.parameters);
    json(res, 200, {
      data: {
        masterToken: session.masterToken,
        token: session.token,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14_400,
        displayUserName: user,
        serverVersion: this.options.version ?? '9.99.0',
        firstLogin: false,
        remMeToken: null,
        remMeValidityInSeconds: 0,
        healthCheckInterval: 45,
        newClientForUpgrade: null,
        sessionId: session.id,
        parameters: this.parameterList(session),
        sessionInfo: {
          databaseName: session.database ?? null,
          schemaName: session.schema ?? null,
          warehouseName: session.warehouse ?? null,
          roleName: session.role ?? 'PUBLIC',
        },
        idToken: null,
        idTokenValidityInSeconds: 0,
        responseData: null,
        mfaToken: null,
        mfaTokenValidityInSeconds: 0,
      },
      code: null,
      message: null,
      success: true,
    });
  }

  private parameterList(session: Session): Array<{ name: string; value: string | number | boolean }> {
    return Object.entries(session.parameters).map(([name, value]) => ({ name, value }));
  }

  private baseData(session: Session, queryId: string) {
    return {
      parameters: this.parameterList(session),
      queryId,
      finalDatabaseName: session.database ?? null,
      finalSchemaName: session.schema ?? null,
      finalWarehouseName: session.warehouse ?? null,
      finalRoleName: session.role ?? 'PUBLIC',
      databaseProvider: null,
      numberOfBinds: 0,
      arrayBindSupported: false,
      version: 1,
      sendResultTime: Date.now(),
      queryResultFormat: 'json',
      queryContext: { entries: [] },
    };
  }

  private errorBody(queryId: string, code: string, message: string, sqlState: string) {
    return {
      data: { internalError: false, errorCode: code, age: 0, sqlState, queryId, line: -1, pos: -1, type: 'COMPILATION' },
      code,
      message,
      success: false,
      headers: null,
    };
  }

  private async query(res: ServerResponse, url: URL, body: unknown, token: string | undefined): Promise<void> {
    const session = this.sessions.get(token as string) as Session;
    const b = (body ?? {}) as { sqlText?: string; bindings?: RecordedStatement['bindings']; parameters?: Record<string, unknown> };
    const sql = String(b.sqlText ?? '');
    const queryId = randomUUID();
    const stmt: RecordedStatement = {
      sql,
      bindings: b.bindings,
      parameters: b.parameters,
      sessionToken: token,
      requestId: url.searchParams.get('requestId'),
      queryId,
      at: Date.now(),
    };
    this.statements.push(stmt);
    if (typeof b.parameters?.QUERY_TAG === 'string') session.parameters.QUERY_TAG = b.parameters.QUERY_TAG;

    const matcher = this.matchers.find((m) => m.match(sql));
    if (!matcher && session.executor) {
      // Run for real: answered when done, or "in progress" first when it takes long (as Snowflake).
      const body = this.executeBody(session, stmt);
      body.catch(() => undefined); // answered (or reported) by whoever waits for it
      const done = await Promise.race([body, sleep(this.options.asyncAfterMs ?? 20_000).then(() => undefined)]);
      if (done !== undefined) return json(res, 200, done);
      session.running.set(queryId, { requestId: stmt.requestId, body });
      return json(res, 200, this.inProgressBody(queryId));
    }
    const reply = matcher ? (typeof matcher.reply === 'function' ? matcher.reply(stmt) : matcher.reply) : this.defaultReply(session, sql, stmt);

    if ('hang' in reply) {
      const p: Pending = { requestId: stmt.requestId, queryId, res };
      this.pending.add(p);
      res.on('close', () => this.pending.delete(p));
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    const out = this.resultBody(session, queryId, reply);
    if ('pendingPolls' in reply && reply.pendingPolls) {
      // Snowflake answers a long statement with "in progress" and a URL the driver polls.
      this.inProgress.set(queryId, { remaining: reply.pendingPolls, body: out });
      return json(res, 200, this.inProgressBody(queryId));
    }
    json(res, 200, out);
  }

  private inProgressBody(queryId: string): unknown {
    return {
      data: { getResultUrl: `/queries/${queryId}/result`, progressDesc: null, queryAbortsAfterSecs: 300, queryId },
      code: '333333',
      message: 'Query execution in progress. Use provided URL to poll for results.',
      success: true,
    };
  }

  /** The answer to a statement no handler takes: session statements here, the rest by the executor. */
  private async executeBody(session: Session, stmt: RecordedStatement): Promise<unknown> {
    const own = this.sessionReply(session, stmt.sql);
    if (own) {
      if ('columns' in own && session.executor) await session.executor.run(stmt, session.parameters); // ALTER SESSION reaches DuckDB too
      return this.resultBody(session, stmt.queryId, own);
    }
    let reply: Reply | undefined;
    try {
      reply = await (session.executor as SessionExecutor).run(stmt, session.parameters);
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      const cancelled = /interrupt/i.test(message);
      reply = cancelled
        ? { error: { code: '000604', message: 'SQL execution canceled', sqlState: '57014' } }
        : { error: { code: '100000', message: `stand-in: the DuckDB twin failed: ${message}`, sqlState: '22000' } };
    }
    if (reply && 'hang' in reply) throw new Error('stand-in: an executor does not hang');
    reply ??= {
      error: {
        code: '002003',
        message: `SQL compilation error:\nthe stand-in has no DuckDB twin for this statement: ${stmt.sql.trim().split('\n')[0].slice(0, 120)}`,
        sqlState: '42S02',
      },
    };
    return this.resultBody(session, stmt.queryId, reply);
  }

  private async pollResult(res: ServerResponse, session: Session, queryId: string): Promise<void> {
    this.polls.push(queryId);
    const running = session.running.get(queryId);
    if (running) {
      const done = await Promise.race([running.body, sleep(this.options.asyncAfterMs ?? 20_000).then(() => undefined)]);
      if (done === undefined) return json(res, 200, this.inProgressBody(queryId));
      session.running.delete(queryId);
      return json(res, 200, done);
    }
    const entry = this.inProgress.get(queryId);
    if (!entry) return json(res, 200, this.errorBody(queryId, '000709', `Statement ${queryId} not found`, '02000'));
    entry.remaining--;
    if (entry.remaining > 0) return json(res, 200, this.inProgressBody(queryId));
    this.inProgress.delete(queryId);
    json(res, 200, entry.body);
  }

  private abort(requestId: string | undefined, queryId: string | undefined): void {
    for (const p of this.pending) {
      if ((requestId && p.requestId === requestId) || (queryId && p.queryId === queryId)) {
        this.pending.delete(p);
        json(p.res, 200, this.errorBody(p.queryId, '000604', 'SQL execution canceled', '57014'));
      }
    }
    if (queryId) this.inProgress.delete(queryId);
  }

  /** Statements about the session itself: CURRENT_VERSION(), ALTER SESSION SET (one parameter). */
  private sessionReply(session: Session, sql: string): Exclude<Reply, { hang: true }> | undefined {
    const s = sql.trim();
    if (/^SELECT\s+CURRENT_VERSION\(\)/i.test(s)) {
      const alias = /\bAS\s+"([^"]+)"/i.exec(s)?.[1] ?? /\bAS\s+(\w+)/i.exec(s)?.[1]?.toUpperCase() ?? 'CURRENT_VERSION()';
      return { columns: [col(alias, 'text')], rows: [[this.options.version ?? '9.99.0']] };
    }
    const alter = /^ALTER\s+SESSION\s+SET\s+(\w+)\s*=\s*(?:'((?:[^']|'')*)'|(TRUE|FALSE|-?\d+))\s*;?$/i.exec(s);
    if (!alter) return undefined;
    const name = alter[1].toUpperCase();
    const bare = alter[3]?.toUpperCase();
    let value: string | number | boolean;
    if (alter[2] !== undefined) value = alter[2].replace(/''/g, "'");
    else if (bare === 'TRUE' || bare === 'FALSE') value = bare === 'TRUE';
    else value = Number(bare);
    if (name === 'TIMEZONE' && !isZone(String(value))) {
      return { error: { code: '002037', message: `SQL compilation error:\ninvalid value [${value}] for parameter 'TIMEZONE'`, sqlState: '42601' } };
    }
    if (name === 'CLIENT_RESULT_CHUNK_SIZE' && !(typeof value === 'number' && value >= 16 && value <= 160)) {
      return { error: { code: '001011', message: `invalid parameter value: CLIENT_RESULT_CHUNK_SIZE = ${value} (16 to 160)`, sqlState: '22023' } };
    }
    session.parameters[name] = value;
    return { columns: [col('status', 'text')], rows: [['Statement executed successfully.']] };
  }

  private defaultReply(session: Session, sql: string, stmt: RecordedStatement): Reply {
    const own = this.sessionReply(session, sql);
    if (own) return own;
    const s = sql.trim();
    const dml = /^(INSERT|UPDATE|DELETE|MERGE)\b/i.exec(s);
    if (dml) {
      const first = stmt.bindings?.['1']?.value;
      return { dml: dml[1].toLowerCase() as 'insert', count: Array.isArray(first) ? first.length : 1 };
    }
    if (/^(CREATE|DROP|ALTER|USE|TRUNCATE|BEGIN|COMMIT|ROLLBACK)\b/i.test(s)) {
      return { columns: [col('status', 'text')], rows: [['Statement executed successfully.']] };
    }
    return {
      error: {
        code: '002003',
        message: `SQL compilation error:\nthe stand-in has no result for this statement: ${s.split('\n')[0].slice(0, 80)}`,
        sqlState: '42S02',
      },
    };
  }

  private resultBody(session: Session, queryId: string, reply: Exclude<Reply, { hang: true }>): unknown {
    if ('error' in reply) return this.errorBody(queryId, reply.error.code, reply.error.message, reply.error.sqlState);
    const base = this.baseData(session, queryId);
    if ('dml' in reply) {
      const label = { insert: 'number of rows inserted', update: 'number of rows updated', delete: 'number of rows deleted', merge: 'number of rows inserted' }[reply.dml];
      return {
        data: {
          ...base,
          rowtype: [rowtype(col(label, 'fixed', { precision: 19, nullable: false }))],
          rowset: [[String(reply.count)]],
          total: 1,
          returned: 1,
          statementTypeId: TYPE_DML[reply.dml],
        },
        code: null,
        message: null,
        success: true,
      };
    }
    // (DDL and ALTER SESSION have their own type ids in Snowflake; the driver only tells DML apart.)
    const statementTypeId = TYPE_SELECT;
    // QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE: Snowflake resolves quoted names upper-case, result
    // aliases included.
    const ignoreCase = session.parameters.QUOTED_IDENTIFIERS_IGNORE_CASE === true;
    const rowtypes = reply.columns.map((c) => rowtype(ignoreCase ? { ...c, name: c.name.toUpperCase() } : c));
    if ('rows' in reply) {
      return {
        data: { ...base, rowtype: rowtypes, rowset: reply.rows, total: reply.rows.length, returned: reply.rows.length, statementTypeId },
        code: null,
        message: null,
        success: true,
      };
    }
    const qrmk = randomBytes(32).toString('base64');
    const chunks: Array<{ url: string; rowCount: number; uncompressedSize: number; compressedSize: number }> = [];
    const url = (n: number) => `${this.url}/stand-in-chunks/${queryId}/${n}`;
    let rowset: WireValue[][];
    let total: number;
    if ('inline' in reply) {
      // computed already: the stored chunks as they are
      const stored = reply.chunks;
      this.large.set(queryId, { chunk: (i) => stored[i]?.body, qrmk, owner: session.token });
      rowset = JSON.parse(`[${reply.inline}]`) as WireValue[][];
      stored.forEach((c, n) => chunks.push({ url: url(n), rowCount: c.rowCount, uncompressedSize: c.uncompressedSize, compressedSize: c.body.length }));
      total = reply.inlineRows + stored.reduce((sum, c) => sum + c.rowCount, 0);
    } else {
      // the first rows inline, the rest in chunks generated when downloaded
      const inlineRows = Math.min(reply.inlineRows ?? 0, reply.rowCount);
      const { row, rowCount, chunkRows } = reply;
      const count = Math.ceil((rowCount - inlineRows) / chunkRows);
      this.large.set(queryId, {
        qrmk,
        owner: session.token,
        chunk: (index) => {
          if (index < 0 || index >= count) return undefined;
          const start = inlineRows + index * chunkRows;
          const end = Math.min(start + chunkRows, rowCount);
          // The JSON chunk format: the rows of the chunk separated by commas, without the outer brackets.
          const parts: string[] = [];
          for (let i = start; i < end; i++) parts.push(JSON.stringify(row(i)));
          return gzipSync(Buffer.from(parts.join(','), 'utf8'));
        },
      });
      rowset = [];
      for (let i = 0; i < inlineRows; i++) rowset.push(row(i));
      for (let n = 0; n < count; n++) {
        const rows = Math.min(chunkRows, rowCount - inlineRows - n * chunkRows);
        chunks.push({ url: url(n), rowCount: rows, uncompressedSize: rows * 100, compressedSize: rows * 20 });
      }
      total = rowCount;
    }
    return {
      data: {
        ...base,
        rowtype: rowtypes,
        rowset,
        total,
        returned: total,
        statementTypeId: TYPE_SELECT,
        ...(chunks.length ? { chunks, qrmk, chunkHeaders: null } : {}),
      },
      code: null,
      message: null,
      success: true,
    };
  }

  private chunk(req: IncomingMessage, res: ServerResponse, path: string): void {
    const [, , queryId, n] = path.split('/');
    const result = this.large.get(queryId);
    const index = Number(n);
    if (!result || !Number.isInteger(index)) {
      res.writeHead(404, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    if (req.headers['x-amz-server-side-encryption-customer-key'] !== result.qrmk) {
      res.writeHead(400, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>InvalidArgument</Code><Message>SSE-C key missing or wrong</Message></Error>');
      return;
    }
    const request: ChunkRequest = { queryId, index, at: Date.now() };
    this.chunkRequests.push(request);
    this.onChunkRequest?.(request);
    const status = this.chunkStatus?.(request);
    if (status !== undefined) {
      res.writeHead(status, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>StandInFailure</Code></Error>');
      return;
    }
    const body = result.chunk(index);
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'binary/octet-stream', 'Content-Encoding': 'gzip', 'Content-Length': body.length });
    res.end(body);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

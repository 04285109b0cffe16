// Snowflake failures as one clear line each (operations.md, "Exit codes": a connection or SQL
// failure is exit 1 with a message an operator can act on). Every error of the driver goes
// through toSnowflakeError: wrong key (JWT rejected), unknown account (DNS failure or HTTP
// 403/404 at login), locked/disabled/expired user, network unreachable (refused, timed out),
// SQL errors (with the statement's first line), cancelled statements. The message never holds
// key material: it names variables, the account, the user and the host, never a token or a key.

/** What kind of failure it was: the caller may treat them differently (a retry, exit code). */
export type SnowflakeFailureKind =
  | 'auth' // the key was rejected (JWT) or the login name is wrong
  | 'user' // the user exists but cannot log in: locked, disabled, expired
  | 'account' // no such account (DNS name unknown, or HTTP 403/404 at login)
  | 'network' // nothing answered: refused, timed out, reset
  | 'login' // any other login refusal (role, database, network policy...)
  | 'sql' // a statement failed in the warehouse
  | 'cancelled' // a statement was cancelled (SIGTERM)
  | 'session' // the session ended under us
  | 'driver'; // anything else from the driver

export class SnowflakeError extends Error {
  override readonly name = 'SnowflakeError';
  constructor(
    message: string,
    readonly kind: SnowflakeFailureKind,
    /** Snowflake's error code (`390144`, `002003`…) or the driver's / the network's. */
    readonly code?: string,
    readonly sqlState?: string,
    readonly queryId?: string,
  ) {
    super(message);
  }
}

export interface SnowflakeErrorContext {
  readonly account: string;
  readonly user: string;
  /** `https://<account>.snowflakecomputing.com` or the configured access URL. */
  readonly url: string;
  /** The statement, when the failure is a statement's. */
  readonly sql?: string;
}

/** The driver's own error codes this module looks at (snowflake-sdk lib/error_code.js). */
const DRIVER = {
  NETWORK_COULD_NOT_CONNECT: 401001,
  RESPONSE_FAILURE: 401002,
  LARGE_RESULT_SET_NETWORK: 403001,
  LARGE_RESULT_SET_RESPONSE: 403002,
  CONN_REQUEST_DISCONNECTED: 405503,
} as const;

/** Snowflake login codes with a specific meaning (Global Services). */
const JWT_INVALID = '390144';
const INCORRECT_CREDENTIALS = '390100';
const CANCELLED_CODES = new Set(['000604', '604']);
const SESSION_GONE = new Set(['390111', '390112', '390114', '390104']);

/** A statement's first non-empty line, trimmed and cut at 160 characters: enough to find it. */
export function firstLine(sql: string): string {
  const line = sql.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('--')) ?? sql.trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Server messages come with newlines ("SQL compilation error:\nObject ..."): one line. */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').replace(/\s+/g, ' ').trim();
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

interface DriverErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  sqlState?: unknown;
  data?: { queryId?: unknown; sqlState?: unknown } | null;
  response?: { statusCode?: unknown; status?: unknown } | null;
  cause?: { code?: unknown; message?: unknown; errno?: unknown } | null;
}

/** The host of the URL, for messages. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ECONNABORTED: 'timed out',
  ESOCKETTIMEDOUT: 'timed out',
  EPIPE: 'connection closed',
};

function networkError(cause: DriverErrorShape['cause'], ctx: SnowflakeErrorContext, phase: string): SnowflakeError {
  const code = str(cause?.code) ?? 'network error';
  const host = hostOf(ctx.url);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') {
    return new SnowflakeError(
      `Cannot resolve the Snowflake host ${host} (DNS lookup failed, ${code}): check SNOWFLAKE_ACCOUNT ` +
        `("${ctx.account}" may not be an account identifier) and the network's DNS`,
      'account',
      code,
    );
  }
  const words = NETWORK_WORDS[code];
  const what = words ? `${words} (${code})` : oneLine(`${code} ${str(cause?.message) ?? ''}`);
  const hint = words === 'timed out'
    ? 'check the network route to Snowflake (subnets, NAT gateway, security groups, proxy)'
    : 'check that this network allows HTTPS to Snowflake';
  const statement = ctx.sql ? ` (in: ${firstLine(ctx.sql)})` : '';
  return new SnowflakeError(`Cannot reach Snowflake at ${host} ${phase}: ${what}; ${hint}${statement}`, 'network', code);
}

function loginRefused(code: string | undefined, message: string, ctx: SnowflakeErrorContext): SnowflakeError {
  const user = ctx.user;
  const m = oneLine(message).replace(/\s*\[[0-9a-f-]{8,}\]\s*$/i, ''); // drop the request id GS appends
  const tag = code ? ` (${code}: ${m})` : ` (${m})`;
  if (code === JWT_INVALID) {
    return new SnowflakeError(
      `Snowflake login failed for user ${user}: JWT token is invalid (check SNOWFLAKE_PRIVATE_KEY matches the ` +
        `user's RSA_PUBLIC_KEY, and that SNOWFLAKE_ACCOUNT "${ctx.account}" and SNOWFLAKE_USER name that user)`,
      'auth',
      code,
    );
  }
  if (/\block(ed)?\b/i.test(m)) {
    return new SnowflakeError(
      `Snowflake login failed: user ${user} is locked${tag}; an administrator can unlock it ` +
        `(ALTER USER ${user} SET MINS_TO_UNLOCK = 0)`,
      'user',
      code,
    );
  }
  if (/\bdisabled\b/i.test(m)) {
    return new SnowflakeError(
      `Snowflake login failed: user ${user} is disabled${tag}; an administrator must enable it ` +
        `(ALTER USER ${user} SET DISABLED = FALSE)`,
      'user',
      code,
    );
  }
  if (/\bexpired?\b/i.test(m)) {
    return new SnowflakeError(
      `Snowflake login failed: user ${user} has expired${tag}; an administrator must extend it ` +
        `(ALTER USER ${user} SET DAYS_TO_EXPIRY = NULL)`,
      'user',
      code,
    );
  }
  if (code === INCORRECT_CREDENTIALS) {
    return new SnowflakeError(
      `Snowflake login failed for user ${user}: incorrect user name or key${tag}; check SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY`,
      'auth',
      code,
    );
  }
  return new SnowflakeError(`Snowflake login failed for user ${user}: ${m}${code ? ` (${code})` : ''}`, 'login', code);
}

/**
 * Map any error of the driver (or of our own calls into it) to one clear line.
 * @param phase `login` for connect(), `statement` for a statement (ctx.sql set), `close`.
 */
export function toSnowflakeError(err: unknown, ctx: SnowflakeErrorContext, phase: 'login' | 'statement' | 'close'): SnowflakeError {
  if (err instanceof SnowflakeError) return err;
  const e = (err ?? {}) as DriverErrorShape;
  const name = str(e.name);
  const code = str(e.code);
  const message = str(e.message) ?? String(err);
  const sqlState = str(e.sqlState) ?? str(e.data?.sqlState);
  const queryId = str(e.data?.queryId);
  const where = phase === 'login' ? 'to log in' : phase === 'close' ? 'to close the session' : 'to run a statement';

  if (name === 'NetworkError' || e.code === DRIVER.NETWORK_COULD_NOT_CONNECT || e.code === DRIVER.LARGE_RESULT_SET_NETWORK) {
    return networkError(e.cause, ctx, where);
  }
  if (name === 'RequestFailedError' || name === 'LargeResultSetError') {
    const status = Number(e.response?.statusCode ?? e.response?.status);
    const host = hostOf(ctx.url);
    if (phase === 'login' && (status === 403 || status === 404)) {
      return new SnowflakeError(
        `Snowflake account "${ctx.account}" was not found at ${host} (HTTP ${status} to the login request): check SNOWFLAKE_ACCOUNT ` +
          `(the account identifier, such as myorg-myaccount or xy12345.us-east-1)`,
        'account',
        String(status),
      );
    }
    const what = name === 'LargeResultSetError' ? 'a result chunk download' : phase === 'login' ? 'the login request' : 'a request';
    return new SnowflakeError(
      `Snowflake at ${host} answered HTTP ${Number.isFinite(status) ? status : '?'} to ${what}` +
        `${status >= 500 ? ' (a Snowflake outage? try again later)' : ''}${ctx.sql ? ` in: ${firstLine(ctx.sql)}` : ''}`,
      'network',
      Number.isFinite(status) ? String(status) : code,
    );
  }
  if (code !== undefined && CANCELLED_CODES.has(code)) {
    return new SnowflakeError(
      `Snowflake statement cancelled${ctx.sql ? `: ${firstLine(ctx.sql)}` : ''}`,
      'cancelled',
      code,
      sqlState,
      queryId,
    );
  }
  if (phase === 'login' && (name === 'OperationFailedError' || (code !== undefined && /^39\d{4}$/.test(code)))) {
    return loginRefused(code, message, ctx);
  }
  if (code !== undefined && SESSION_GONE.has(code)) {
    return new SnowflakeError(`Snowflake session ended: ${oneLine(message)} (${code}); the run must start again`, 'session', code);
  }
  if (e.code === DRIVER.CONN_REQUEST_DISCONNECTED) {
    return new SnowflakeError('Snowflake session is closed (the connection was lost or closed before the statement)', 'session', code);
  }
  if (name === 'OperationFailedError' || sqlState !== undefined) {
    const details = [code, sqlState ? `SQLSTATE ${sqlState}` : undefined, queryId ? `query ${queryId}` : undefined]
      .filter(Boolean)
      .join(', ');
    const text = oneLine(message);
    return new SnowflakeError(
      `Snowflake ${/^SQL /.test(text) ? text : `SQL error: ${text}`}${details ? ` [${details}]` : ''}` +
        (ctx.sql ? ` in: ${firstLine(ctx.sql)}` : ''),
      'sql',
      code,
      sqlState,
      queryId,
    );
  }
  return new SnowflakeError(
    `Snowflake driver error ${where}: ${oneLine(message)}${code ? ` (${code})` : ''}${ctx.sql ? ` in: ${firstLine(ctx.sql)}` : ''}`,
    'driver',
    code,
  );
}

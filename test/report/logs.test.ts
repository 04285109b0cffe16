// Spec: operations.md "Logs": plain lines on stdout or JSON with LOG_FORMAT=json; in order a banner
// with the actions and environment, the effective parameters, …, and at the end the EXECUTION
// RESULT block (one line per action, `Status: completed|failed|skipped`, `Duration:`), whose last
// three lines operators look for. "Never log a secret, not even in DEBUG". "Exit codes": 0, 1, 2, 3.
// The program is run as the container runs it: `node bin/conflict-updater.js`, stdout read back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Action } from '../../src/actions/context.js';
import { ACTIONS } from '../../src/actions/registry.js';
import { runActions } from '../../src/actions/run.js';
import { LockHeldError } from '../../src/errors.js';
import { assertNoSecret as assertNoneOf, keyBody } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { captureStdout, emfLines } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/conflict-updater.js', import.meta.url));
const tmpDir = tempDir('cu-logs-');

const PASSWORD = 'Pg-Secret-Value-4711';
const PASSPHRASE = 'snowflake-passphrase-9876';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string;
const KEY_BODIES = [keyBody(KEY_PEM), keyBody(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)];

let n = 0;
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
  reportPath: string;
}

function run(env: Record<string, string>): Run {
  const reportPath = join(tmpDir, `report-${++n}.json`);
  const r = spawnSync(process.execPath, [BIN], {
    cwd: tmpDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpDir, RUN_REPORT_PATH: reportPath, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean), reportPath };
}

const PG = { POSTGRES_HOST: 'db.internal.example', POSTGRES_USER: 'conflict_app', POSTGRES_PASSWORD: PASSWORD };
const SNOWFLAKE = {
  SNOWFLAKE_ACCOUNT: 'xy12345.us-east-1',
  SNOWFLAKE_USER: 'CONFLICT_JOB',
  SNOWFLAKE_WAREHOUSE: 'COMPUTE_WH',
  SNOWFLAKE_PRIVATE_KEY: KEY_PEM,
  SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: PASSPHRASE,
};

function assertNoSecret(...texts: string[]): void {
  for (const t of texts) {
    assertNoneOf(t, [PASSWORD], 'POSTGRES_PASSWORD');
    assertNoneOf(t, [PASSPHRASE], 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE');
    assertNoneOf(t, KEY_BODIES, 'private key material');
  }
}

/** Messages of the lines, whatever the format (the EMF line excluded). */
function messages(r: Run, format: 'text' | 'json'): string[] {
  return r.lines
    .filter((l) => !l.startsWith('{"_aws"'))
    .map((l) => (format === 'json' ? (JSON.parse(l) as { msg: string }).msg : l.slice(32))); // `<date> <time> <LEVEL padded to 7> `
}

function assertEnding(msgs: string[], actionLines: RegExp[], status: RegExp): void {
  const tail = msgs.slice(-(actionLines.length + 3));
  assert.equal(tail[0], 'EXECUTION RESULT');
  actionLines.forEach((re, i) => assert.match(tail[i + 1], re));
  assert.match(tail.at(-2) as string, status);
  assert.match(tail.at(-1) as string, /^Duration: \d+(\.\d)?s$|^Duration: \d+m \d+s$/);
}

describe('logs of a run (child process)', () => {
  for (const format of ['text', 'json'] as const) {
    test(`${format}: validate_config, completed — banner, masked parameters, metrics line, EXECUTION RESULT last`, () => {
      const r = run({ ...PG, ...SNOWFLAKE, ACTION: 'validate_config', LOG_FORMAT: format, LOG_LEVEL: 'DEBUG' });
      assert.equal(r.code, 0, r.stderr);
      assertNoSecret(r.stdout, r.stderr, readFileSync(r.reportPath, 'utf8'));
      if (format === 'json') {
        for (const l of r.lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
        const banner = JSON.parse(r.lines[0]);
        assert.equal(banner.level, 'INFO');
        assert.ok(!Number.isNaN(Date.parse(banner.time)));
        assert.deepEqual(banner.actions, ['validate_config']);
        assert.equal(banner.environment, 'dev');
        assert.equal(banner.schema, 'conflict_dev');
        assert.match(banner.runId, /^[0-9a-f-]{36}$/);
      } else {
        assert.match(r.lines[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO +conflict-updater: actions validate_config; environment dev; schema conflict_dev$/);
      }
      const msgs = messages(r, format);
      assert.match(msgs[0], /actions validate_config; environment dev; schema conflict_dev/);
      // The parameters, masked: presence and length, never the value.
      assert.ok(msgs.some((m) => /^ {2}POSTGRES_PASSWORD +<set, 20 characters>$/.test(m)));
      assert.ok(msgs.some((m) => /^ {2}SNOWFLAKE_PRIVATE_KEY +<set, \d+ characters> encrypted-pkcs8/.test(m)));
      assert.ok(msgs.some((m) => /^ {2}SNOWFLAKE_PRIVATE_KEY_PASSPHRASE +<set>$/.test(m)));
      assert.ok(msgs.some((m) => /^ {2}BATCH_SIZE +5000$/.test(m)));
      // One EMF line, before the EXECUTION RESULT block.
      const emf = emfLines(r.stdout);
      assert.equal(emf.length, 1);
      assert.equal(emf[0].Outcome, 'completed');
      assert.equal(emf[0].RunFailed, 0);
      const emfAt = r.lines.findIndex((l) => l.startsWith('{"_aws"'));
      const resultAt = r.lines.findIndex((l) => l.includes('EXECUTION RESULT'));
      assert.ok(emfAt < resultAt);
      assertEnding(msgs, [/^ {2}validate_config: success \(\d+\.\ds\)$/], /^Status: completed$/);
      assert.equal(JSON.parse(readFileSync(r.reportPath, 'utf8')).status, 'completed');
    });

    test(`${format}: a configuration error — exit 2, names the variable, Status: failed last`, () => {
      const r = run({ ...PG, ACTION: 'validate_config', LOG_FORMAT: format, LOOKBACK_HOURS: 'thirty-six' });
      assert.equal(r.code, 2);
      assertNoSecret(r.stdout, r.stderr);
      if (format === 'json') for (const l of r.lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
      const msgs = messages(r, format);
      assert.ok(msgs.some((m) => m === 'Configuration error: LOOKBACK_HOURS must be a whole number, at least 1 (got "thirty-six")'));
      assert.equal(msgs.at(-1), 'Status: failed');
      assert.equal(emfLines(r.stdout)[0].RunFailed, 1);
      assert.ok(existsSync(r.reportPath));
    });

    test(`${format}: a failing action — exit 1, EXECUTION RESULT with the failure and the error`, async () => {
      // An empty DuckDB warehouse, and no PostgreSQL listening on port 1: test_connections fails on the target.
      const duck = join(tmpDir, `empty-${format}.duckdb`);
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(duck);
      (await db.connect()).closeSync();
      db.closeSync();
      const r = run({ ACTION: 'test_connections,init_db', LOG_FORMAT: format, DUCKDB_PATH: duck, POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: '1', POSTGRES_USER: 'u', POSTGRES_PASSWORD: PASSWORD });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assertNoSecret(r.stdout, r.stderr);
      const msgs = messages(r, format);
      assertEnding(msgs, [/^ {2}test_connections: failed \(\d+\.\ds\)$/, /^ {2}init_db: not run$/], /^Status: failed \(.+\)$/);
      assert.equal(emfLines(r.stdout)[0].RunFailed, 1);
      const report = JSON.parse(readFileSync(r.reportPath, 'utf8'));
      assert.equal(report.status, 'failed');
      assert.equal(report.exitCode, 1);
    });
  }
});

describe('logs of a skipped run (runActions, an action that finds the lock held)', () => {
  const registry = ACTIONS as Record<string, () => Promise<Action>>;
  before(() => {
    registry.test_lock_held = async () => async () => {
      throw new LockHeldError('another run holds the lock (settings.InProgressFlag = 1)');
    };
  });
  after(() => {
    delete registry.test_lock_held;
  });

  for (const format of ['text', 'json'] as const) {
    test(`${format}: exit 3, a warning, Status: skipped`, async () => {
      const reportPath = join(tmpDir, `skipped-${format}.json`);
      const { result, out } = await captureStdout(() =>
        runActions('test_lock_held', { ...PG, LOG_FORMAT: format, RUN_REPORT_PATH: reportPath }),
      );
      assert.equal(result, 3);
      assertNoSecret(out);
      const lines = out.split('\n').filter(Boolean);
      if (format === 'json') for (const l of lines) assert.doesNotThrow(() => JSON.parse(l));
      const msgs = messages({ lines } as Run, format);
      assert.ok(msgs.includes('test_lock_held: skipped: another run holds the lock (settings.InProgressFlag = 1)'));
      assertEnding(msgs, [/^ {2}test_lock_held: skipped \(\d+\.\ds\)$/], /^Status: skipped \(another run holds the lock/);
      assert.equal(emfLines(out)[0].RunSkipped, 1);
      assert.equal(JSON.parse(readFileSync(reportPath, 'utf8')).status, 'skipped');
    });
  }
});

// operations.md, "Actions" and "Exit codes": one program, ACTION or argv, names checked first.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from './helpers/cli.js';

describe('actions', () => {
  test('validate_config as a subcommand: exit 0, configuration logged, EXECUTION RESULT', async () => {
    const r = await runCli(['validate_config'], {});
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Configuration is valid/);
    assert.match(r.stdout, /EXECUTION RESULT\n.*validate_config: success \(\d+\.\ds\)\n.*Status: completed\n.*Duration: /);
  });

  test('ACTION holds a comma list run in order', async () => {
    const r = await runCli([], { ACTION: 'validate_config, validate_config' });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.stdout.match(/validate_config: success/g)?.length, 2);
  });

  test('an unknown name in ACTION is rejected before anything runs: exit 2 with the valid names', async () => {
    const r = await runCli([], { ACTION: 'validate_config,task02_run' });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /unknown action "task02_run"; valid actions: validate_config, test_connections, task02_00_run_conflict_update, init_db/);
    assert.doesNotMatch(r.stdout, /Configuration is valid/);
  });

  test('an unknown subcommand is rejected the same way', async () => {
    const r = await runCli(['frobnicate'], {});
    assert.equal(r.code, 2);
    assert.match(r.stdout, /unknown action "frobnicate"/);
  });

  test('a configuration error exits 2 and connects to nothing', async () => {
    // A PostgreSQL host that would hang if contacted: the run must stop at validation.
    const r = await runCli([], { BATCH_SIZE: 'lots', POSTGRES_HOST: '10.255.255.1', POSTGRES_USER: 'u' }, { timeoutMs: 10_000 });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /Configuration error: BATCH_SIZE must be a whole number/);
    assert.doesNotMatch(r.stdout, /connection/i);
  });

  test('secrets never reach the log, not even at DEBUG', async () => {
    const r = await runCli(['validate_config'], {
      LOG_LEVEL: 'DEBUG',
      POSTGRES_HOST: 'db.internal',
      POSTGRES_USER: 'job',
      POSTGRES_PASSWORD: 'correct-horse-battery',
    });
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout + r.stderr, /correct-horse-battery/);
    assert.match(r.stdout, /POSTGRES_PASSWORD\s+<set, 21 characters>/);
  });

  test('LOG_FORMAT=json: one JSON object per line', async () => {
    const r = await runCli(['validate_config'], { LOG_FORMAT: 'json' });
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n').filter((l) => !l.includes('"_aws"'));
    for (const line of lines) {
      const o = JSON.parse(line);
      assert.ok(o.time && o.level && typeof o.msg === 'string', line);
    }
    assert.ok(lines.some((l) => JSON.parse(l).msg === 'Status: completed'));
  });
});

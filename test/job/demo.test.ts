// `npm run demo` on a fresh checkout (operations.md, "Embedded default"): no data/ directory, the
// warehouse generated, the target bootstrapped, three runs reported. Runs the real program in an
// empty working directory; the target is the test PostgreSQL instead of a second embedded one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { testPostgresEnv } from '../helpers/pg.js';

const BIN = fileURLToPath(new URL('../../bin/conflict-updater.js', import.meta.url));

test('operations.md Embedded default: the demo generates the warehouse, runs the job twice around a change and shows a repeat writes nothing', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cu-demo-'));
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(testPostgresEnv('unused') as Record<string, string>) };
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'demo'], { cwd, env });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, out: text }));
    });
    assert.equal(code, 0, out);
    assert.ok(existsSync(join(cwd, 'data', 'warehouse.duckdb')));
    const info = JSON.parse(readFileSync(join(cwd, 'data', 'warehouse.json'), 'utf8'));
    assert.equal(info.profile, 'small');
    assert.match(info.asOf, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    for (const step of ['[1/7]', '[2/7]', '[3/7]', '[4/7]', '[5/7]', '[6/7]', '[7/7]', 'What you saw', 'Try next']) assert.ok(out.includes(step), step);
    assert.ok(!out.includes('{"_aws"'), 'the metrics line is left out of the walk-through');
    const runs = [1, 2, 3].map((i) => JSON.parse(readFileSync(join(cwd, 'data', 'demo', `run-${i}.json`), 'utf8')));
    assert.ok(runs[0].statistics.inserted > 0, 'the first run inserts');
    assert.ok(runs[1].statistics.inserted + runs[1].statistics.updated + runs[1].statistics.staleResolved > 0, 'the change shows');
    // [5/7]: the dry run rolled back and listed what the second run then wrote (operations.md, "Dry run")
    const dry = JSON.parse(readFileSync(join(cwd, 'data', 'demo', 'dry-run.json'), 'utf8'));
    assert.equal(dry.dryRun, true);
    assert.ok(existsSync(dry.dryRunChanges.path));
    for (const k of ['inserted', 'updated', 'staleResolved', 'exclusionResolved']) assert.equal(dry.statistics[k], runs[1].statistics[k], k);
    assert.match(out, /would insert \d+, update \d+, resolve \d+ rows; nothing was written/);
    assert.equal(runs[2].statistics.inserted, 0);
    assert.equal(runs[2].statistics.updated, 0);
    assert.equal(runs[2].statistics.staleResolved + runs[2].statistics.exclusionResolved, 0);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

// operations.md, "Preflight checks": test_connections against Snowflake, through the real program
// and the real snowflake-sdk, with the local stand-in of Snowflake's HTTP service answering the
// preflight statements (preflightAnswers.ts). An account that answers as the job expects passes;
// one probe answered otherwise (an engine whose `$` matches before a trailing newline) fails the
// action, naming the probe, the answer expected and the answer found; a session setting that
// does not stick (a policy overriding it) fails too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PreflightCheck } from '../../src/actions/preflight/check.js';
import type { Env } from '../../src/config/config.js';
import { runCli } from '../helpers/cli.js';
import { dropSchema, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { col, type SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { tempDir } from '../helpers/tmp.js';
import { loginEnv, standIn } from './fixtures.js';
import { answerPreflight } from './preflightAnswers.js';

const schema = uniqueSchema('sfpf');
const reports = tempDir('cu-sf-pf-');
let n = 0;
const started: SnowflakeStandIn[] = [];

async function account(setup: (si: SnowflakeStandIn) => void): Promise<SnowflakeStandIn> {
  const si = await standIn({ version: '9.40.1', accountParameters: { QUOTED_IDENTIFIERS_IGNORE_CASE: true, TIMESTAMP_INPUT_FORMAT: 'DD/MM/YYYY HH24:MI' } });
  started.push(si);
  setup(si);
  return si;
}

function env(si: SnowflakeStandIn): Env {
  return {
    ...testPostgresEnv(schema),
    ...loginEnv(si.url),
    TIMEZONE: 'America/Chicago',
    RUN_REPORT_PATH: join(reports, `r${n++}.json`),
  };
}

function preflightOf(e: Env): PreflightCheck[] {
  return (JSON.parse(readFileSync(e.RUN_REPORT_PATH as string, 'utf8')) as { preflight: PreflightCheck[] }).preflight;
}

before(async () => {
  const si = await account(answerPreflight);
  assert.equal((await runCli(['init_db'], env(si))).code, 0);
});
after(async () => {
  for (const si of started) await si.close();
  await dropSchema(schema);
});

test('an account that answers as the job expects passes every check (settings read back with SHOW PARAMETERS)', async () => {
  const si = await account(answerPreflight);
  const e = env(si);
  const r = await runCli(['test_connections'], e);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // the account defaults above are overridden by the session's pinned values
  assert.match(r.stdout, /Preflight ok: warehouse access: session setting QUOTED_IDENTIFIERS_IGNORE_CASE \("false"\)/);
  assert.match(r.stdout, /Preflight ok: warehouse access: session setting TIMESTAMP_INPUT_FORMAT \("AUTO"\)/);
  assert.match(r.stdout, /Preflight ok: warehouse access: session setting QUERY_TAG \("conflict-updater test_connections [0-9a-f-]{36}"\)/);
  assert.match(r.stdout, /Preflight ok: warehouse access: table BI\.FACTVISITCALLPERFORMANCE_CR readable \(40 columns of usable types\)/);
  assert.match(r.stdout, /Preflight ok: warehouse access: temporary table created, filled with bound rows, read back and dropped/);
  assert.match(r.stdout, /Preflight ok: warehouse semantics: minute differences count minute boundaries/);
  assert.deepEqual(preflightOf(e).filter((c) => c.status !== 'ok'), []);
  assert.ok(si.statements.some((s) => s.sql === 'SHOW PARAMETERS IN SESSION'));
  assert.ok(si.statements.some((s) => /^CREATE OR REPLACE TEMPORARY TABLE conflict_updater_preflight /.test(s.sql)));
  assert.ok(si.statements.some((s) => s.sql === 'DROP TABLE IF EXISTS conflict_updater_preflight'));
});

test('a probe answered otherwise than the job expects fails the action, with the expected and the found answer', async () => {
  const si = await account((s) =>
    answerPreflight(s, { wrong: { probe: '"40.7,-73.9\\n"', answer: { lat_t: '40.7', lon_t: '-73.9', lat: 40.7, lon: -73.9 } } }),
  );
  const e = env(si);
  const r = await runCli(['test_connections'], e);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /ERROR\s+Preflight mismatch: warehouse semantics: GPS grammar and numeric conversion of "40\.7,-73\.9\\n": expected lat_t NULL, lon_t NULL, lat NULL, lon NULL, found lat_t "40\.7", lon_t "-73\.9", lat 40\.7, lon -73\.9\. What to do: do not run the job on this warehouse/,
  );
  assert.match(r.stdout, /test_connections: failed: 1 preflight check failed: warehouse semantics: GPS grammar and numeric conversion of "40\.7,-73\.9\\n"/);
  // every other probe passed
  assert.deepEqual(preflightOf(e).filter((c) => c.status !== 'ok').map((c) => c.check), ['GPS grammar and numeric conversion of "40.7,-73.9\\n"']);
});

test('a session setting that does not stick fails the action', async () => {
  const si = await account((s) => {
    answerPreflight(s);
    // a policy that ignores the job's ALTER SESSION: the account default stays
    s.on(/^ALTER SESSION SET TIMESTAMP_INPUT_FORMAT/, { columns: [col('status', 'text')], rows: [['Statement executed successfully.']] });
  });
  const e = env(si);
  const r = await runCli(['test_connections'], e);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Preflight mismatch: warehouse access: session setting TIMESTAMP_INPUT_FORMAT: expected "AUTO", found "DD\/MM\/YYYY HH24:MI"\. What to do:/);
});

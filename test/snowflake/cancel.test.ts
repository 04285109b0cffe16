// SIGTERM (operations.md: "On SIGTERM the job cancels the running warehouse statement, rolls
// back, ... closes connections ... and exits within 20 s"): cancel() reaches Snowflake's abort
// endpoint for the running statement, the statement fails as cancelled, the caller closes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Shutdown } from '../../src/run/shutdown.js';
import { SnowflakeError } from '../../src/warehouse/snowflake.js';
import type { WarehouseSession } from '../../src/warehouse/warehouse.js';
import { col, type SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { until } from '../helpers/wait.js';
import { captureLog, open, standIn } from './fixtures.js';

let si: SnowflakeStandIn;
before(async () => {
  si = await standIn();
  si.on(/^CREATE OR REPLACE TEMPORARY TABLE base_visits/, { hang: true });
  si.on(/FROM big/, { columns: [col('i', 'text')], rowCount: 20_000, chunkRows: 1_000, row: (i) => [String(i)] });
});
after(() => si.close());

async function rejection(p: Promise<unknown>): Promise<SnowflakeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SnowflakeError, `a SnowflakeError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the statement to fail');
}

test('SIGTERM: the running statement is cancelled on the server, then the session is closed', async () => {
  const captured = captureLog();
  const wh: WarehouseSession = await open(si, { log: captured.log });
  const shutdown = new Shutdown();
  shutdown.onStop(() => wh.cancel());
  const n = si.statements.length;
  const running = rejection(wh.execute('CREATE OR REPLACE TEMPORARY TABLE base_visits AS\nSELECT 1'));
  const queued = rejection(wh.execute('SELECT 2')); // waiting for the session when the stop comes
  await until('the statement to reach the stand-in', () => si.statements.length > n);
  const stmt = si.statements.at(-1)!;

  const t0 = Date.now();
  await shutdown.stop('SIGTERM');
  const err = await running;
  assert.equal(err.kind, 'cancelled');
  assert.equal(err.message, 'Snowflake statement cancelled: CREATE OR REPLACE TEMPORARY TABLE base_visits AS');
  assert.equal((await queued).kind, 'cancelled', 'a statement queued before the stop does not start');
  assert.deepEqual(si.aborts.map((a) => a.requestId), [stmt.requestId], 'the abort names the running statement');

  await wh.close();
  assert.ok(Date.now() - t0 < 5_000, 'well within the 20 s ECS gives');
  assert.equal(si.logouts.at(-1)?.sessionToken, stmt.sessionToken, 'the session was logged out');
  assert.equal(si.statements.length, n + 1, 'the queued statement never reached Snowflake');
  assert.match(captured.text(), /INFO\s+Cancelling the running Snowflake statement: CREATE OR REPLACE TEMPORARY TABLE base_visits AS/);
});

test('cancel() while a result is being read stops the stream; with nothing running it is a no-op', async () => {
  const wh = await open(si);
  await wh.cancel(); // nothing running
  const it = wh.stream('SELECT i FROM big', [], 100)[Symbol.asyncIterator]();
  assert.equal(((await it.next()).value as unknown[]).length, 100);
  const aborts = si.aborts.length;
  await wh.cancel();
  const err = await rejection(it.next());
  assert.equal(err.kind, 'cancelled');
  assert.equal(si.aborts.length, aborts, 'nothing ran on the server: no abort request');
  assert.equal(await wh.version(), '9.99.0', 'statements issued after the cancel run');
  await wh.close();
});

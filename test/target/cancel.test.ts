// operations.md, "Exit codes" (SIGTERM): cancelling the running statement is the target's job.
// target.cancel(client) cancels it from a separate session; the client stays usable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTarget } from '../../src/target/postgres.js';
import { testPostgresConfig } from '../helpers/pg.js';
import { captureLogger } from '../report/helpers.js';

test('target.cancel(client) cancels the running statement; the session lives on', async () => {
  const { log, text } = captureLogger();
  const target = await openTarget(testPostgresConfig('unused'), log);
  try {
    const client = await target.connect();
    const running = client.query('SELECT pg_sleep(60)').then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    );
    // Cancel once the statement is visible as active on the server, not after a guessed delay.
    const watcher = await target.connect();
    for (;;) {
      const r = await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(60)'`);
      if (r.rows[0].n > 0) break;
    }
    await target.cancel(client);
    assert.equal((await running)?.code, '57014', 'query_canceled');
    assert.match(text(), /PostgreSQL: running statement of backend \d+ cancelled/);
    assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
  } finally {
    // close() ends the clients still open, the two of this test included.
    await target.close();
  }
});

// One run per schema at a time (sync.md, "One run at a time"): a session-level advisory lock.
import type pg from 'pg';

/** The advisory lock key of a schema: one run per schema at a time. */
export function lockKey(schema: string): string {
  return `conflict-updater:${schema}`;
}

/** Try the session-level advisory lock of `schema`; false when another session holds it. */
export async function tryLock(client: pg.Client, schema: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [lockKey(schema)]);
  return r.rows[0].ok;
}

export async function unlock(client: pg.Client, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(schema)]);
}

// settings."InProgressFlag", the run's state as other programs see it (sync.md, "One run at a time").
import type pg from 'pg';
import { postgresText } from '../sqlText.js';

/** settings."InProgressFlag": 1 while running, 0 after success, 2 after a failure or a stop. Autocommitted. */
export async function setInProgress(client: pg.Client, schema: string, value: 0 | 1 | 2): Promise<number> {
  const r = await client.query(`UPDATE ${postgresText.qualified(schema, 'settings')} SET "InProgressFlag" = $1`, [value]);
  return r.rowCount ?? 0;
}

// test_connections (operations.md, "Actions"): both connections, then the schema's tables and
// the row counts of the reference tables, a warning for each one missing.
import { formatCount } from '../log.js';
import { postgresText } from '../sqlText.js';
import { openTarget } from '../target/postgres.js';
import { openWarehouse } from '../warehouse/warehouse.js';
import type { ActionContext } from './context.js';

const COUNTED = ['settings', 'excluded_agency', 'excluded_ssn', 'mph', 'conflictvisitmaps'] as const;

export async function testConnections(ctx: ActionContext): Promise<'success'> {
  const { config, log } = ctx;
  const wh = await openWarehouse(config.warehouse, { timezone: config.timezone, log, queryTag: `conflict-updater test_connections ${ctx.runId}` });
  try {
    const version = await wh.version();
    log.info(wh.dialect === 'snowflake' ? `Snowflake connection successful: ${version}` : `DuckDB connection successful: ${version.replace(/^DuckDB /, '')}`);
  } finally {
    await wh.close();
  }

  const target = await openTarget(config.postgres, log);
  try {
    const client = await target.connect();
    try {
      await client.query('SELECT 1');
      log.info('PostgreSQL connection successful');
      const schema = config.postgres.schema;
      const tables = (
        await client.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
          [schema],
        )
      ).rows.map((r) => r.table_name);
      log.info(`Schema ${schema}: ${tables.length ? tables.join(', ') : 'no tables (run init_db to create them)'}`);
      for (const table of COUNTED) {
        if (!tables.includes(table)) {
          log.warn(`Table ${schema}.${table} is missing (init_db creates it)`);
          continue;
        }
        const r = await client.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${postgresText.qualified(schema, table)}`);
        const n = Number(r.rows[0]?.n ?? 0);
        log.info(`  ${table.padEnd(18)} ${formatCount(n)} rows`);
        if (n === 0 && (table === 'settings' || table === 'mph')) log.warn(`Table ${schema}.${table} is empty`);
      }
    } finally {
      await client.end();
    }
  } finally {
    await target.close();
  }
  return 'success';
}

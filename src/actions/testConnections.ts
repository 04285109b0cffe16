// test_connections (operations.md, "Actions" and "Preflight checks"): both connections, then
// everything the job assumes about the two databases, checked on the real ones before a run
// writes anything. Each check is logged as `ok` or as a mismatch (expected, found, what to do)
// and listed in the run report; a failed check fails the action with every failure named,
// warnings never do.
import { sqlDialect } from '../detection/dialect/index.js';
import { openTarget } from '../target/postgres.js';
import { openWarehouse } from '../warehouse/warehouse.js';
import type { ActionContext } from './context.js';
import { Preflight, PreflightFailedError } from './preflight/check.js';
import { checkPostgres } from './preflight/postgres.js';
import { checkSemantics } from './preflight/semantics.js';
import { checkWarehouseAccess } from './preflight/warehouse.js';

export async function testConnections(ctx: ActionContext): Promise<'success'> {
  const { config, log } = ctx;
  const pf = new Preflight(log);
  try {
    const queryTag = `conflict-updater test_connections ${ctx.runId}`;
    const wh = await openWarehouse(config.warehouse, { timezone: config.timezone, log, queryTag });
    try {
      const version = await wh.version();
      log.info(wh.dialect === 'snowflake' ? `Snowflake connection successful: ${version}` : `DuckDB connection successful: ${version.replace(/^DuckDB /, '')}`);
      const d = sqlDialect(wh.dialect);
      const { database, schema } = config.warehouse;
      await checkWarehouseAccess(wh, d, { database, schema, timezone: config.timezone, queryTag: wh.dialect === 'snowflake' ? queryTag : undefined }, pf);
      await checkSemantics(wh, d, database, schema, pf);
    } finally {
      await wh.close();
    }

    const target = await openTarget(config.postgres, log);
    try {
      const client = await target.connect();
      try {
        await client.query('SELECT 1');
        log.info('PostgreSQL connection successful');
        await checkPostgres(client, config.postgres.schema, pf);
      } finally {
        await client.end();
      }
    } finally {
      await target.close();
    }
  } finally {
    ctx.recorder.preflight.push(...pf.checks);
  }

  const failures = pf.failures;
  const warnings = pf.checks.filter((c) => c.status === 'warning').length;
  log.info(`Preflight: ${pf.checks.length} checks, ${failures.length} failed, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  if (failures.length) throw new PreflightFailedError(failures);
  return 'success';
}

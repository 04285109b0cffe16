import { initDb as bootstrap } from '../target/initDb.js';
import { openTarget } from '../target/postgres.js';
import type { ActionContext } from './context.js';

export async function initDb(ctx: ActionContext): Promise<'success'> {
  const { config, log } = ctx;
  const target = await openTarget(config.postgres, log);
  try {
    const client = await target.connect();
    try {
      const r = await bootstrap(client, config.postgres.schema);
      const schema = config.postgres.schema;
      log.info(r.schemaCreated ? `Schema ${schema} created` : `Schema ${schema} exists`);
      log.info(r.tablesCreated.length ? `Tables created: ${r.tablesCreated.join(', ')}` : 'All tables exist');
      if (r.settingsRowCreated) log.info('settings row created (ExtraDistancePer 1.25, InProgressFlag 0)');
      if (r.mphBandsCreated) log.info(`mph: ${r.mphBandsCreated} default bands created (replace them with your own)`);
      log.info(r.indexesCreated.length ? `Indexes created: ${r.indexesCreated.join(', ')}` : 'All indexes exist');
      for (const b of r.indexesBuiltConcurrently) {
        log.info(`Index ${b.name} built on the rows of conflictvisitmaps without blocking the application (CREATE INDEX CONCURRENTLY): ${b.seconds.toFixed(1)}s`);
      }
    } finally {
      await client.end();
    }
  } finally {
    await target.close();
  }
  return 'success';
}

import type { ActionContext } from '../actions/context.js';

/** The whole job: reference data, detection, sync, report (sync.md). */
export async function runConflictUpdate(ctx: ActionContext): Promise<'completed'> {
  ctx.log.warn('task02_00_run_conflict_update: not implemented yet');
  return 'completed';
}

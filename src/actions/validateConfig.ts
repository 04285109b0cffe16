import { describeConfig } from '../config/config.js';
import type { ActionContext } from './context.js';

/** Connects to nothing: the configuration was validated before any action ran; log it, masked. */
export async function validateConfig(ctx: ActionContext): Promise<'success'> {
  ctx.log.info('Configuration is valid');
  for (const [name, value] of describeConfig(ctx.config)) ctx.log.info(`  ${name.padEnd(32)} ${value}`);
  return 'success';
}

// Shared fixtures of the observability tests: a captured logger, an ActionContext, stdout capture.
import type { ActionContext } from '../../src/actions/context.js';
import { loadConfig, type Env } from '../../src/config/config.js';
import type { Logger } from '../../src/log.js';
import { RunRecorder } from '../../src/run/recorder.js';
import { Shutdown } from '../../src/run/shutdown.js';

export { captureLog as captureLogger, type CapturedLog as Captured } from '../helpers/log.js';

export const BASE_ENV: Env = {
  ENVIRONMENT: 'dev',
  POSTGRES_HOST: 'db.internal.example',
  POSTGRES_USER: 'conflict_app',
  POSTGRES_PASSWORD: 'Pg-Secret-Value-4711',
};

export function makeCtx(env: Env, log: Logger, startedAt = new Date('2026-02-14T06:00:00.250Z')): ActionContext {
  return {
    config: loadConfig(env),
    log,
    shutdown: new Shutdown(),
    recorder: new RunRecorder(log),
    runId: '11111111-2222-3333-4444-555555555555',
    startedAt,
  };
}

/**
 * Run `fn` with the program's string writes to process.stdout captured (and kept off the test
 * output). Buffers pass through: the test runner's own protocol is written as Buffers.
 */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result: T; out: string }> {
  const original = process.stdout.write;
  let out = '';
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string') {
      out += chunk;
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  try {
    const result = await fn();
    return { result, out };
  } finally {
    process.stdout.write = original;
  }
}

/** Lines of `out` that parse as EMF objects. */
export function emfLines(out: string): Array<Record<string, any>> {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>)
    .filter((o) => o._aws !== undefined);
}

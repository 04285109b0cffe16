// Waiting for something another process or connection does (a lock wait, a statement reaching a
// server, a flag set), by polling: the one wait loop of the tests. A wait that never ends fails
// with what it waited for; it is a bound, not a timed assertion.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll `probe` every 20 ms until it returns a value (not undefined/false), for at most `timeoutMs`.
 * `what` names the wait in the error; a function is asked at the timeout (to show state then).
 */
export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(20);
  }
}

// SIGTERM/SIGINT handled in one place (operations.md: ECS sends SIGTERM and kills 30 s later).
// A stop aborts the run's signal and calls the registered cancel hooks (warehouse statement,
// PostgreSQL query); the action unwinds through its rollback paths and the program exits 143.
// MAX_RUN_MINUTES takes the same path: when the run is older than that, it stops as on SIGTERM.
import { StoppedError } from '../errors.js';
import type { Logger } from '../log.js';

export type CancelHook = () => Promise<void> | void;

export class Shutdown {
  private readonly controller = new AbortController();
  private readonly hooks = new Set<CancelHook>();
  private reason: string | undefined;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Register what to cancel on a stop; returns the function that unregisters it. */
  onStop(hook: CancelHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Throw StoppedError when a stop was requested: called between steps. */
  throwIfStopped(): void {
    if (this.stopped) throw new StoppedError(`stopped by ${this.reason ?? 'signal'}`);
  }

  /** Request a stop (a signal, the run-time limit, or a test). Safe to call more than once. */
  async stop(reason: string, log?: Logger, why = `${reason} received`): Promise<void> {
    if (this.stopped) return;
    this.reason = reason;
    this.controller.abort(new StoppedError(`stopped by ${reason}`));
    log?.warn(`${why}: cancelling the running statement and rolling back`);
    await Promise.allSettled([...this.hooks].map(async (h) => h()));
  }

  /**
   * Install the process signal handlers and the run-time limit. `forceExitMs` after a stop the
   * process exits 143 even if something hangs, so ECS never has to kill it. `maxRunMs` after the
   * process started (MAX_RUN_MINUTES of the configuration), the run stops exactly as on SIGTERM.
   */
  install(log: Logger, maxRunMs: number, forceExitMs = 20_000): () => void {
    const trigger = (reason: string, why?: string) => {
      if (this.stopped) return;
      setTimeout(() => {
        log.error(`still running ${forceExitMs / 1000}s after ${reason}: exiting now`);
        process.exit(143);
      }, forceExitMs).unref();
      void this.stop(reason, log, why);
    };
    const handler = (sig: NodeJS.Signals) => trigger(sig);
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    // Measured from the process start, so start-up time counts; unref: it never keeps a finished run alive.
    const limit = setTimeout(
      () => trigger('MAX_RUN_MINUTES', `the run exceeded MAX_RUN_MINUTES=${maxRunMs / 60_000}`),
      // setTimeout takes at most 2^31-1 ms (24.8 days); longer would fire at once.
      Math.min(2 ** 31 - 1, Math.max(0, maxRunMs - process.uptime() * 1000)),
    ).unref();
    return () => {
      clearTimeout(limit);
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    };
  }
}

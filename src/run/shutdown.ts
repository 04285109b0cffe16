// SIGTERM/SIGINT handled in one place (operations.md: ECS sends SIGTERM and kills 30 s later).
// A stop aborts the run's signal and calls the registered cancel hooks (warehouse statement,
// PostgreSQL query); the action unwinds through its rollback paths and the program exits 143.
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

  /** Request a stop (a signal, or a test). Safe to call more than once. */
  async stop(reason: string, log?: Logger): Promise<void> {
    if (this.stopped) return;
    this.reason = reason;
    this.controller.abort(new StoppedError(`stopped by ${reason}`));
    log?.warn(`${reason} received: cancelling the running statement and rolling back`);
    await Promise.allSettled([...this.hooks].map(async (h) => h()));
  }

  /**
   * Install the process signal handlers. `forceExitMs` later the process exits 143 even if
   * something hangs, so ECS never has to kill it.
   */
  install(log: Logger, forceExitMs = 20_000): () => void {
    const handler = (sig: NodeJS.Signals) => {
      if (this.stopped) return;
      setTimeout(() => {
        log.error(`still running ${forceExitMs / 1000}s after ${sig}: exiting now`);
        process.exit(143);
      }, forceExitMs).unref();
      void this.stop(sig, log);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    return () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    };
  }
}

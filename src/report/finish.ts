// After the EXECUTION RESULT block: the run report JSON, the metrics line, the status email.
import type { ActionContext } from '../actions/context.js';

export interface ActionResult {
  name: string;
  outcome: 'success' | 'completed' | 'failed' | 'skipped' | 'stopped' | 'not run';
  ms: number;
  error?: string;
}

export interface RunEnd {
  results: ActionResult[];
  status: 'completed' | 'failed' | 'skipped' | 'stopped';
  exitCode: number;
  totalMs: number;
  error?: string;
}

/** Never throws: a failure here is logged and never changes the run's exit code. */
export async function finishRun(_ctx: ActionContext, _end: RunEnd): Promise<void> {
  // Filled in by the observability work (run report, EMF metrics, SES email).
}

import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { RunRecorder } from '../run/recorder.js';
import type { Shutdown } from '../run/shutdown.js';

/** What every action gets: the validated configuration, the log, the stop signal, the recorder. */
export interface ActionContext {
  readonly config: Config;
  readonly log: Logger;
  readonly shutdown: Shutdown;
  readonly recorder: RunRecorder;
  /** Identifies the run in the query tag, the report and the metrics. */
  readonly runId: string;
  readonly startedAt: Date;
}

/** How an action ended, as the EXECUTION RESULT block words it. */
export type ActionOutcome = 'success' | 'completed';

export type Action = (ctx: ActionContext) => Promise<ActionOutcome | void>;

// Running an action list (operations.md, "Actions", "Logs", "Exit codes"): configuration first,
// then each action in order until one fails, then the report and the EXECUTION RESULT block.
import { randomUUID } from 'node:crypto';
import { loadConfig, SECRET_VARIABLES, type Config, type Env } from '../config/config.js';
import { ConfigError, errorMessage, exitCodeFor, EXIT, LockHeldError, StoppedError } from '../errors.js';
import { createLogger, formatDuration, type Logger } from '../log.js';
import { finishConfigError, finishRun, type ActionResult, type RunEnd } from '../report/finish.js';
import { RunRecorder } from '../run/recorder.js';
import { Shutdown } from '../run/shutdown.js';
import type { ActionContext } from './context.js';
import { ACTIONS, parseActions } from './registry.js';

/**
 * An error message on one line, for the log line, the Status line and the report: engines add
 * lines (DuckDB and PostgreSQL quote the statement with a caret under the position); those go.
 */
export function oneLine(message: string): string {
  return message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\^+$/.test(l) && !/^LINE \d+:/.test(l))
    .join(' ')
    .replace(/\s+/g, ' ');
}

function printResult(log: Logger, results: ActionResult[], status: string, totalMs: number, error?: string): void {
  const lines = ['EXECUTION RESULT', ...results.map((r) => `  ${r.name}: ${r.outcome}${r.outcome === 'not run' ? '' : ` (${formatDuration(r.ms)})`}`)];
  lines.push(`Status: ${status}${error ? ` (${error})` : ''}`, `Duration: ${formatDuration(totalMs)}`);
  for (const l of lines) log.info(l);
}

function secretValues(env: Env): string[] {
  return [...SECRET_VARIABLES].map((n) => env[n]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** Run the actions named by `list` (or ACTION); resolves with the process exit code. */
export async function runActions(list: string | undefined, env: Env, shutdown = new Shutdown()): Promise<number> {
  const started = Date.now();
  // Before the configuration loads: honour LOG_FORMAT=json already, so a configuration error is a JSON line too.
  const fallbackLog = createLogger({ format: env.LOG_FORMAT?.trim().toLowerCase() === 'json' ? 'json' : 'text', secrets: secretValues(env) });
  let names: string[];
  let config: Config;
  try {
    names = parseActions(list);
    config = loadConfig(env);
  } catch (err) {
    fallbackLog.error(`Configuration error: ${errorMessage(err)}`);
    await finishConfigError(list, env, err, exitCodeFor(err), new Date(started), fallbackLog);
    fallbackLog.info('Status: failed');
    return exitCodeFor(err);
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretValues(env) });
  const uninstall = shutdown.install(log, config.maxRunMinutes * 60_000);
  const runId = randomUUID();
  log.info(`conflict-updater: actions ${names.join(', ')}; environment ${config.environment}; schema ${config.postgres.schema}`, {
    runId,
    actions: names,
    environment: config.environment,
    schema: config.postgres.schema,
  });
  const ctx: ActionContext = { config, log, shutdown, recorder: new RunRecorder(log), runId, startedAt: new Date(started) };
  const results: ActionResult[] = [];
  let failure: unknown;
  for (const name of names) {
    if (failure !== undefined || shutdown.stopped) {
      results.push({ name, outcome: 'not run', ms: 0 });
      continue;
    }
    const t0 = Date.now();
    try {
      shutdown.throwIfStopped();
      const action = await ACTIONS[name]();
      const outcome = (await action(ctx)) ?? 'success';
      results.push({ name, outcome, ms: Date.now() - t0 });
    } catch (err) {
      failure = shutdown.stopped && !(err instanceof LockHeldError) ? new StoppedError() : err;
      const outcome = failure instanceof LockHeldError ? 'skipped' : failure instanceof StoppedError ? 'stopped' : 'failed';
      const message = oneLine(errorMessage(err));
      results.push({ name, outcome, ms: Date.now() - t0, error: message });
      if (outcome === 'skipped') log.warn(`${name}: skipped: ${message}`);
      else log.error(`${name}: ${outcome}: ${message}`);
      if (log.format === 'text' && config.logLevel === 'DEBUG' && err instanceof Error && err.stack) log.debug(err.stack);
    }
  }
  uninstall();
  const code = failure === undefined ? (shutdown.stopped ? EXIT.stopped : EXIT.ok) : exitCodeFor(failure);
  const status: RunEnd['status'] = code === EXIT.ok ? 'completed' : code === EXIT.skipped ? 'skipped' : code === EXIT.stopped ? 'stopped' : 'failed';
  const totalMs = Date.now() - started;
  const error = failure === undefined ? undefined : oneLine(errorMessage(failure));
  // Report, metrics line and email first, so the EXECUTION RESULT block stays the log's last lines.
  await finishRun(ctx, { results, status, exitCode: code, totalMs, error });
  printResult(log, results, status, totalMs, error);
  return code;
}

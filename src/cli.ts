// The one program: container actions (ACTION or argv) and the local tools (generate, demo,
// bench, sql, deploy). Exit codes: operations.md, "Exit codes".
import { randomUUID } from 'node:crypto';
import type { Action, ActionContext } from './actions/context.js';
import { loadConfig, SECRET_VARIABLES, type Config, type Env } from './config/config.js';
import { ConfigError, errorMessage, exitCodeFor, EXIT, LockHeldError, StoppedError } from './errors.js';
import { createLogger, formatDuration, type Logger } from './log.js';
import { RunRecorder } from './run/recorder.js';
import { Shutdown } from './run/shutdown.js';
import { finishConfigError, finishRun, type ActionResult, type RunEnd } from './report/finish.js';

export const ACTIONS: Readonly<Record<string, () => Promise<Action>>> = {
  validate_config: async () => (await import('./actions/validateConfig.js')).validateConfig,
  test_connections: async () => (await import('./actions/testConnections.js')).testConnections,
  task02_00_run_conflict_update: async () => (await import('./job/runConflictUpdate.js')).runConflictUpdate,
  init_db: async () => (await import('./actions/initDb.js')).initDb,
};

export const DEFAULT_PIPELINE = ['validate_config', 'test_connections', 'task02_00_run_conflict_update'];

/** Local tools: not container actions, each parses its own arguments. */
const TOOLS: Readonly<Record<string, (argv: string[], env: Env) => Promise<number>>> = {
  generate: async (argv) => (await import('./tools/generate.js')).generateCommand(argv),
  demo: async (argv) => (await import('./tools/demo.js')).demoCommand(argv),
  bench: async (argv) => (await import('./tools/bench.js')).benchCommand(argv),
  sql: async (argv) => (await import('./tools/sql.js')).sqlCommand(argv),
  deploy: async (argv) => (await import('./deploy/main.js')).deployCommand(argv),
};

export function parseActions(list: string | undefined): string[] {
  const names = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) return [...DEFAULT_PIPELINE];
  const unknown = names.filter((n) => !(n in ACTIONS));
  if (unknown.length) {
    throw new ConfigError(
      `unknown action${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; valid actions: ${Object.keys(ACTIONS).join(', ')}` +
        ` (tools: ${Object.keys(TOOLS).join(', ')})`,
    );
  }
  return names;
}


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
  const uninstall = shutdown.install(log);
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

export async function main(argv: string[], env: Env = process.env): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(
      `usage: conflict-updater [action[,action…]]   (default: ACTION, else ${DEFAULT_PIPELINE.join(',')})\n` +
        `       conflict-updater <tool> [options]\n\nactions: ${Object.keys(ACTIONS).join(', ')}\ntools:   ${Object.keys(TOOLS).join(', ')}\n`,
    );
    return EXIT.ok;
  }
  if (first !== undefined && first in TOOLS) {
    try {
      return await TOOLS[first](rest, env);
    } catch (err) {
      process.stderr.write(`${first}: ${errorMessage(err)}\n`);
      return exitCodeFor(err);
    }
  }
  if (rest.length) {
    process.stderr.write(`unexpected arguments after the action list: ${rest.join(' ')}\n`);
    return EXIT.config;
  }
  return runActions(first ?? env.ACTION, env);
}

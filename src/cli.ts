// The one program's command line: `conflict-updater [action[,action…]]` (or ACTION) runs container
// actions, `conflict-updater <tool> …` a local tool. Only argv is read here; actions live in
// src/actions/. Exit codes: operations.md, "Exit codes".
import { DEFAULT_PIPELINE, ACTIONS, TOOL_NAMES, type ToolName } from './actions/registry.js';
import { runActions } from './actions/run.js';
import type { Env } from './config/config.js';
import { errorMessage, exitCodeFor, EXIT } from './errors.js';
import { stopEmbeddedPostgres } from './target/embedded.js';

/** Local tools: not container actions, each parses its own arguments. */
const TOOLS: Readonly<Record<ToolName, (argv: string[], env: Env) => Promise<number>>> = {
  generate: async (argv) => (await import('./tools/generate.js')).generateCommand(argv),
  demo: async (argv) => (await import('./tools/demo.js')).demoCommand(argv),
  bench: async (argv) => (await import('./tools/bench.js')).benchCommand(argv),
  sql: async (argv) => (await import('./tools/sql.js')).sqlCommand(argv),
  deploy: async (argv) => (await import('./deploy/main.js')).deployCommand(argv),
};

function isTool(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

async function dispatch(argv: string[], env: Env): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(
      `usage: conflict-updater [action[,action…]]   (default: ACTION, else ${DEFAULT_PIPELINE.join(',')})\n` +
        `       conflict-updater <tool> [options]\n\nactions: ${Object.keys(ACTIONS).join(', ')}\ntools:   ${TOOL_NAMES.join(', ')}\n`,
    );
    return EXIT.ok;
  }
  if (first !== undefined && isTool(first)) {
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

/** The process: one command, then the embedded PostgreSQL (if one was started) stops. */
export async function main(argv: string[], env: Env = process.env): Promise<number> {
  try {
    return await dispatch(argv, env);
  } finally {
    await stopEmbeddedPostgres();
  }
}

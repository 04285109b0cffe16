// The container actions by name (operations.md, "Actions"). Each loads on first use, so
// validate_config stays quick and never loads a database driver.
import { ConfigError } from '../errors.js';
import type { Action } from './context.js';

export const ACTIONS: Readonly<Record<string, () => Promise<Action>>> = {
  validate_config: async () => (await import('./validateConfig.js')).validateConfig,
  test_connections: async () => (await import('./testConnections.js')).testConnections,
  task02_00_run_conflict_update: async () => (await import('../job/runConflictUpdate.js')).runConflictUpdate,
  init_db: async () => (await import('./initDb.js')).initDb,
};

export const DEFAULT_PIPELINE: readonly string[] = ['validate_config', 'test_connections', 'task02_00_run_conflict_update'];

/** The local tools' names (cli.ts loads them): not actions, named in the unknown-action message. */
export const TOOL_NAMES = ['generate', 'demo', 'bench', 'sql', 'deploy'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** The names of `list` (empty: the default pipeline), every one checked before anything runs. */
export function parseActions(list: string | undefined): string[] {
  const names = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) return [...DEFAULT_PIPELINE];
  const unknown = names.filter((n) => !(n in ACTIONS));
  if (unknown.length) {
    throw new ConfigError(
      `unknown action${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; valid actions: ${Object.keys(ACTIONS).join(', ')}` +
        ` (tools: ${TOOL_NAMES.join(', ')})`,
    );
  }
  return names;
}

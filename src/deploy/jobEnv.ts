// Variables of the job (operations.md, "Configuration") set on ECS: for every run in the task
// definition (CDK context, deploy/.env) and for one run (the deploy tool's --env NAME=VALUE and its
// menu, as the console's container overrides). Names and values are checked against the job's own
// configuration before anything is registered or run, so a typo fails here, not in the container.
import { CONFIG_VARIABLES, loadConfig } from '../config/config.js';
import { ConfigError, errorMessage } from '../errors.js';
import { SECRET_WIRING } from './settings.js';

/** Injected from Secrets Manager by the task definition, never set as plain text. */
const FROM_SECRETS: ReadonlySet<string> = new Set([...SECRET_WIRING.map((w) => w.variable), 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE']);

/**
 * Set by the task definition template itself or by ECS: ACTION (per run: --action), AWS_REGION
 * (Fargate sets the task's region; SES is called there), NODE_OPTIONS (the heap cap, src/deploy/heap.ts).
 */
const OWNED_BY_TEMPLATE: Readonly<Record<string, string>> = {
  ACTION: 'the task definition sets it; choose the actions of a run with --action or the menu',
  AWS_REGION: 'ECS sets it to the task\'s region; the status email goes through SES there',
  NODE_OPTIONS: 'the heap cap follows the task memory (TASK_MEMORY / --context memory)',
};

/** The names a run may be given: the job's variables less the ones above. */
export const SETTABLE_VARIABLES: readonly string[] = CONFIG_VARIABLES.filter((n) => !FROM_SECRETS.has(n) && !(n in OWNED_BY_TEMPLATE));

/** One of the variables the task definition injects from the two secrets (or the passphrase). */
export function isFromSecrets(name: string): boolean {
  return FROM_SECRETS.has(name);
}

export function isJobVariable(name: string): boolean {
  return CONFIG_VARIABLES.includes(name);
}

/** `NAME=VALUE` (the value may contain `=` and be empty only if explicitly so). */
export function parseAssignment(text: string): [string, string] {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq).trim() : '';
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new ConfigError(`expected NAME=VALUE with an upper-case variable name (got "${text}")`);
  return [name, text.slice(eq + 1)];
}

/**
 * Every problem with `vars` as the job's environment on ECS, each naming the variable; none when
 * fine. `base` (the task definition's variables) is checked together with `vars` but its own
 * problems are not repeated, so a per-run EMAIL_SENDER is judged with the every-run EMAIL_RECIPIENTS.
 */
export function jobEnvironmentProblems(vars: Readonly<Record<string, string>>, base: Readonly<Record<string, string>> = {}): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(vars)) {
    if (FROM_SECRETS.has(name)) problems.push(`${name} comes from Secrets Manager (the task definition injects it); it cannot be set as plain text`);
    else if (name in OWNED_BY_TEMPLATE) problems.push(`${name} cannot be set here: ${OWNED_BY_TEMPLATE[name]}`);
    else if (!isJobVariable(name)) problems.push(`${name} is not a variable of the job; known: ${SETTABLE_VARIABLES.join(', ')}`);
  }
  if (problems.length) return problems;
  // A CA bundle given as a path names a file inside the container, not on this machine: it must be
  // absolute, and the job reads it there (exit 2 naming it if it cannot). A PEM is checked here.
  const env: Record<string, string> = { ...base, ...vars };
  const ca = env.POSTGRES_SSLROOTCERT;
  if (ca !== undefined && !ca.includes('-----BEGIN')) {
    if ('POSTGRES_SSLROOTCERT' in vars && !ca.startsWith('/')) {
      problems.push(`POSTGRES_SSLROOTCERT must be the PEM itself or an absolute path inside the container, such as /app/certs/ca.pem (got "${ca}")`);
    }
    delete env.POSTGRES_SSLROOTCERT;
  }
  // The job's own parser judges the values, with its own messages (the variable and the form).
  try {
    loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(errorMessage(err));
  }
  return problems;
}

/** Throws one ConfigError listing every problem, prefixed with where the variables came from. */
export function checkJobEnvironment(vars: Readonly<Record<string, string>>, where: string, base: Readonly<Record<string, string>> = {}): void {
  const problems = jobEnvironmentProblems(vars, base);
  if (problems.length) throw new ConfigError(`${where}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
}

/** True when the variables turn the status email on (both halves are checked by the job's parser). */
export function sendsEmail(vars: Readonly<Record<string, string>>): boolean {
  return Boolean(vars.EMAIL_SENDER?.trim());
}

// The values of deploy/.env: what each one is, its default, its form, and which step needs it.
// deploy/.env.example lists the same keys with comments; the reference names of operations.md
// ("Container and AWS") are the defaults.
import { existsSync, readFileSync } from 'node:fs';
import { nodeOptionsFor } from './heap.js';

export type StepId = 'login' | 'build' | 'push' | 'register' | 'run';

export interface SettingSpec {
  describe: string;
  default?: string;
  /** Returns a complaint when the value has the wrong form. */
  check?: (value: string) => string | undefined;
}

const pattern = (re: RegExp, form: string) => (v: string) => (re.test(v) ? undefined : `expected ${form}`);
const list = (re: RegExp, form: string) => (v: string) =>
  splitList(v).length > 0 && splitList(v).every((x) => re.test(x)) ? undefined : `expected a comma-separated list of ${form}`;

export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Reference names (operations.md) shared by the deploy tool and the CDK app. */
export const REFERENCE = {
  repository: 'conflict-snowflake',
  cluster: 'conflict-batch-1',
  family: 'task02-conflict-updater',
  container: 'task02-conflict-updater',
  logGroup: '/ecs/task02-conflict-updater',
  logStreamPrefix: 'task02',
  logRetentionDays: 30,
  snowflakeSecret: 'task02/snowflake',
  postgresSecret: 'task02/postgres',
  cpu: '1024',
  memory: '2048',
  environment: 'dev',
  logLevel: 'INFO',
  imageTag: 'latest',
  action: 'task02_00_run_conflict_update',
} as const;

/** Secret keys of the two Secrets Manager secrets and the variables ECS injects from them. */
export const SECRET_WIRING = [
  { variable: 'SNOWFLAKE_ACCOUNT', secret: 'snowflake', key: 'account' },
  { variable: 'SNOWFLAKE_USER', secret: 'snowflake', key: 'user' },
  { variable: 'SNOWFLAKE_WAREHOUSE', secret: 'snowflake', key: 'warehouse' },
  { variable: 'SNOWFLAKE_PRIVATE_KEY', secret: 'snowflake', key: 'private_key' },
  { variable: 'POSTGRES_HOST', secret: 'postgres', key: 'host' },
  { variable: 'POSTGRES_USER', secret: 'postgres', key: 'user' },
  { variable: 'POSTGRES_PASSWORD', secret: 'postgres', key: 'password' },
] as const;

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export const SETTINGS: Readonly<Record<string, SettingSpec>> = {
  AWS_ACCOUNT_ID: { describe: 'the 12-digit AWS account id', check: pattern(/^\d{12}$/, '12 digits') },
  AWS_REGION: { describe: 'the AWS region, e.g. us-east-1', check: pattern(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'a region like us-east-1') },
  AWS_PROFILE: { describe: 'the AWS CLI profile with SSO configured (aws configure sso)' },
  ECR_REPOSITORY: { describe: 'the ECR repository', default: REFERENCE.repository, check: pattern(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, 'an ECR repository name') },
  IMAGE_TAG: { describe: 'the image tag the task definition uses', default: REFERENCE.imageTag, check: pattern(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'a Docker tag') },
  ECS_CLUSTER: { describe: 'the ECS cluster', default: REFERENCE.cluster },
  TASK_FAMILY: { describe: 'the task definition family', default: REFERENCE.family, check: pattern(/^[A-Za-z0-9_-]{1,255}$/, 'letters, digits, - and _') },
  CONTAINER_NAME: { describe: 'the container name', default: REFERENCE.container, check: pattern(/^[A-Za-z0-9_-]{1,255}$/, 'letters, digits, - and _') },
  TASK_CPU: { describe: 'task CPU units', default: REFERENCE.cpu, check: pattern(/^(256|512|1024|2048|4096|8192|16384)$/, 'a Fargate CPU value (256 … 16384)') },
  TASK_MEMORY: {
    describe: 'task memory in MiB (the heap cap NODE_OPTIONS follows it)',
    default: REFERENCE.memory,
    check: (v) => (/^\d{3,6}$/.test(v) && Number(v) >= 512 && Number(v) <= 122880 ? undefined : 'MiB, a Fargate size from 512 to 122880, e.g. 2048'),
  },
  EXECUTION_ROLE_ARN: { describe: 'the ECS task execution role ARN', check: pattern(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'arn:aws:iam::<account>:role/<name>') },
  TASK_ROLE_ARN: { describe: 'the task role allowed ses:SendEmail for EMAIL_SENDER (needed for the status email)', check: pattern(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'arn:aws:iam::<account>:role/<name>') },
  SNOWFLAKE_SECRET_ARN: { describe: `the full ARN of the ${REFERENCE.snowflakeSecret} secret`, check: pattern(SECRET_ARN, 'arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>') },
  POSTGRES_SECRET_ARN: { describe: `the full ARN of the ${REFERENCE.postgresSecret} secret`, check: pattern(SECRET_ARN, 'arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>') },
  LOG_GROUP: { describe: 'the CloudWatch log group', default: REFERENCE.logGroup },
  LOG_STREAM_PREFIX: { describe: 'the awslogs stream prefix', default: REFERENCE.logStreamPrefix },
  ENVIRONMENT: { describe: 'ENVIRONMENT of the job (names the schema)', default: REFERENCE.environment, check: pattern(/^[A-Za-z0-9_]+$/, 'letters, digits and _') },
  LOG_LEVEL: { describe: 'LOG_LEVEL of the job', default: REFERENCE.logLevel, check: pattern(/^(DEBUG|INFO|WARNING|ERROR)$/, 'DEBUG, INFO, WARNING or ERROR') },
  SUBNETS: { describe: 'subnets of the task (reach Snowflake on 443 and PostgreSQL on 5432)', check: list(/^subnet-[0-9a-f]+$/, 'subnet-… ids') },
  SECURITY_GROUPS: { describe: 'security groups of the task', check: list(/^sg-[0-9a-f]+$/, 'sg-… ids') },
  ASSIGN_PUBLIC_IP: { describe: 'DISABLED behind a NAT gateway, ENABLED without one', check: pattern(/^(ENABLED|DISABLED)$/, 'ENABLED or DISABLED') },
};

/**
 * Template placeholders the tool works out itself rather than read from deploy/.env: the heap
 * cap follows TASK_MEMORY (src/deploy/heap.ts), as in the CDK stack.
 */
export const DERIVED: Readonly<Record<string, { from: string; value: (values: Record<string, string>) => string | undefined }>> = {
  NODE_OPTIONS: {
    from: 'TASK_MEMORY',
    value: (v) => (v.TASK_MEMORY && !SETTINGS.TASK_MEMORY.check?.(v.TASK_MEMORY) ? nodeOptionsFor(Number(v.TASK_MEMORY)) : undefined),
  },
};

/** Keys each step reads, besides the template placeholders of step 4. */
export const STEP_NEEDS: Readonly<Record<StepId, readonly string[]>> = {
  login: ['AWS_PROFILE'],
  build: ['ECR_REPOSITORY'],
  push: ['AWS_ACCOUNT_ID', 'AWS_REGION', 'ECR_REPOSITORY'],
  register: ['AWS_REGION'],
  run: ['AWS_REGION', 'ECS_CLUSTER', 'TASK_FAMILY', 'CONTAINER_NAME', 'SUBNETS', 'SECURITY_GROUPS', 'ASSIGN_PUBLIC_IP'],
};

/** A name that says its value is a secret (the ARNs of secrets are not). */
export function looksSecretName(name: string): boolean {
  if (/_ARN$/i.test(name)) return false;
  return /(PASSWORD|PASSWD|PASSPHRASE|PRIVATE_?KEY|SECRET|TOKEN|ACCESS_?KEY|CREDENTIAL|_KEY$|^KEY$)/i.test(name);
}

/**
 * Reads a dotenv file: KEY=VALUE lines, # comments, optional `export `, single or double quotes
 * (double quotes understand \n), inline ` # comments` after unquoted values. Later keys win.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, rawValue] = m;
    let value = rawValue;
    if (value.startsWith('"')) {
      // A double-quoted value may run over several lines (a PEM pasted as is).
      let body = value.slice(1);
      while (!/(^|[^\\])"\s*(#.*)?$/.test(body) && i + 1 < lines.length) body += '\n' + lines[++i];
      body = body.replace(/"\s*(#.*)?$/, '');
      value = body.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    } else if (value.startsWith("'")) {
      value = value.replace(/^'([^']*)'\s*(#.*)?$/, '$1');
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[key] = value;
  }
  return out;
}

export interface LoadedSettings {
  path: string;
  exists: boolean;
  /** Defaults, then the file, then the command line. */
  values: Record<string, string>;
  /** Keys of the file whose name says they hold a secret. */
  secretKeys: string[];
  /** Every key the file sets (with a value). */
  fileKeys: string[];
}

export function loadSettings(path: string, overrides: Record<string, string | undefined>): LoadedSettings {
  const exists = existsSync(path);
  const file = exists ? parseEnvFile(readFileSync(path, 'utf8')) : {};
  const values: Record<string, string> = {};
  for (const [key, spec] of Object.entries(SETTINGS)) if (spec.default !== undefined) values[key] = spec.default;
  for (const [key, value] of Object.entries(file)) if (value !== '') values[key] = value;
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined && value !== '') values[key] = value;
  const secretKeys = Object.keys(file).filter((k) => looksSecretName(k) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(file[k]));
  const fileKeys = Object.keys(file).filter((k) => file[k] !== '');
  return { path, exists, values, secretKeys, fileKeys };
}

export interface SettingProblem {
  key: string;
  problem: 'missing' | 'invalid';
  detail: string;
  steps: StepId[];
}

/** Missing or malformed values for the given keys, each with the steps that need it. */
export function checkSettings(values: Record<string, string>, needs: ReadonlyMap<string, StepId[]>): SettingProblem[] {
  const problems: SettingProblem[] = [];
  for (const [key, steps] of needs) {
    const value = values[key];
    const spec = SETTINGS[key];
    if (value === undefined || value.trim() === '') {
      problems.push({ key, problem: 'missing', detail: spec?.describe ?? 'used by the task definition template', steps });
      continue;
    }
    const complaint = spec?.check?.(value.trim());
    if (complaint) problems.push({ key, problem: 'invalid', detail: complaint, steps });
  }
  return problems;
}

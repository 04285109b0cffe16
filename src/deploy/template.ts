// The task definition template (deploy/ecs-task-definition.json): ${KEY} placeholders in string
// values, filled from deploy/.env by the deploy tool and with CloudFormation references by the
// CDK app, so the console, the tool and CDK register the same definition.
import { readFileSync } from 'node:fs';
import { looksSecretName, SECRET_WIRING } from './settings.js';
import { masked } from './redact.js';

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

export const TEMPLATE_PATH = 'deploy/ecs-task-definition.json';

export function readTemplate(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function walk(value: unknown, visit: (s: string) => string): unknown {
  if (typeof value === 'string') return visit(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, visit));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, visit)]));
  }
  return value;
}

/** The placeholder names of a template, sorted. */
export function placeholders(template: unknown): string[] {
  const found = new Set<string>();
  walk(template, (s) => {
    for (const m of s.matchAll(PLACEHOLDER)) found.add(m[1]);
    return s;
  });
  return [...found].sort();
}

/**
 * Fills the placeholders (one pass: a value is never scanned again, so it may contain "${").
 * Values are placed into strings of the parsed JSON, never into JSON text.
 */
export function renderTemplate(template: unknown, values: Readonly<Record<string, string | undefined>>): { value: unknown; missing: string[] } {
  const missing = new Set<string>();
  const value = walk(template, (s) =>
    s.replace(PLACEHOLDER, (whole, key: string) => {
      const v = values[key];
      if (v === undefined || v === '') {
        missing.add(key);
        return whole;
      }
      return v;
    }),
  );
  return { value, missing: [...missing].sort() };
}

// ---- what the template cannot say: extra variables, the task role -----------------------------

export interface TaskDefinitionExtras {
  /** Variables of the job for every run (checked by src/deploy/jobEnv.ts), after the template's own. */
  environment?: Readonly<Record<string, string>>;
  /** The task role (the status email's ses:SendEmail); none: the task has no role of its own. */
  taskRoleArn?: string;
}

/**
 * The rendered template with the extras added: a variable the template already sets is replaced
 * in place (ENVIRONMENT, LOG_LEVEL), the others follow in name order. Returns a new object.
 */
export function completeTaskDefinition(rendered: unknown, extras: TaskDefinitionExtras): unknown {
  const td = structuredClone(rendered) as { taskRoleArn?: string; containerDefinitions?: { environment?: KeyValue[] }[] };
  const container = td.containerDefinitions?.[0];
  if (!container) throw new Error('the task definition template has no container');
  const env = [...(container.environment ?? [])];
  for (const [name, value] of Object.entries(extras.environment ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const at = env.findIndex((e) => e.name === name);
    if (at >= 0) env[at] = { name, value };
    else env.push({ name, value });
  }
  container.environment = env;
  if (extras.taskRoleArn) td.taskRoleArn = extras.taskRoleArn;
  return td;
}

// ---- the summary shown before registering ---------------------------------------------------

interface KeyValue {
  name?: string;
  value?: string;
  valueFrom?: string;
}

interface TaskDefinitionShape {
  family?: string;
  cpu?: string;
  memory?: string;
  networkMode?: string;
  requiresCompatibilities?: string[];
  executionRoleArn?: string;
  taskRoleArn?: string;
  runtimePlatform?: { cpuArchitecture?: string; operatingSystemFamily?: string };
  containerDefinitions?: {
    name?: string;
    image?: string;
    environment?: KeyValue[];
    secrets?: KeyValue[];
    stopTimeout?: number;
    logConfiguration?: { logDriver?: string; options?: Record<string, string> };
  }[];
}

/** "task02/snowflake-AbCdEf" and "private_key" out of "<secret ARN>:private_key::". */
function secretReference(valueFrom: string): { secret: string; key: string } {
  const m = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:([^:]+)(?::([^:]*):[^:]*:[^:]*)?$/.exec(valueFrom);
  return m ? { secret: m[1], key: m[2] ?? '(whole secret)' } : { secret: valueFrom, key: '' };
}

/** What will be registered, in lines; no secret value appears (ECS reads them, this tool never does). */
export function summarizeTaskDefinition(td: unknown): string[] {
  const t = td as TaskDefinitionShape;
  const c = t.containerDefinitions?.[0] ?? {};
  const pad = (s: string) => s.padEnd(22);
  const lines = [
    `Task definition ${t.family} (${(t.requiresCompatibilities ?? []).join('/')}, ${t.networkMode}, ` +
      `${t.runtimePlatform?.cpuArchitecture}/${t.runtimePlatform?.operatingSystemFamily}, cpu ${t.cpu}, memory ${t.memory} MiB)`,
    `  ${pad('container')}${c.name}, stopTimeout ${c.stopTimeout ?? '(default)'} s`,
    `  ${pad('image')}${c.image}`,
    `  ${pad('execution role')}${t.executionRoleArn}`,
    `  ${pad('task role')}${t.taskRoleArn ?? '(none: no status email)'}`,
    `  environment:`,
    ...(c.environment ?? []).map((e) => `    ${pad(e.name ?? '')}${looksSecretName(e.name ?? '') ? masked(e.value) : e.value}`),
    `  secrets (ECS injects them from Secrets Manager; shown masked, the tool never reads them):`,
    ...(c.secrets ?? []).map((s) => {
      const ref = secretReference(s.valueFrom ?? '');
      return `    ${pad(s.name ?? '')}**** from ${ref.secret}, key ${ref.key}`;
    }),
    `  ${pad('logs')}${c.logConfiguration?.logDriver} group ${c.logConfiguration?.options?.['awslogs-group']} ` +
      `(${c.logConfiguration?.options?.['awslogs-region']}), stream prefix ${c.logConfiguration?.options?.['awslogs-stream-prefix']}`,
  ];
  const wired = new Set((c.secrets ?? []).map((s) => s.name));
  const unwired = SECRET_WIRING.filter((w) => !wired.has(w.variable)).map((w) => w.variable);
  if (unwired.length) lines.push(`  warning: not injected: ${unwired.join(', ')}`);
  return lines;
}

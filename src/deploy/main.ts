// `conflict-updater deploy`: the five steps of operations.md ("Container and AWS") — SSO login,
// build, push to ECR, register the task definition, run a task — interactive by default (a Y/n
// prompt per step, a menu for step 5) and scriptable with flags. Everything it talks to is
// injected (DeployDeps), so tests drive it without AWS, Docker or a terminal.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RegisterTaskDefinitionCommandInput,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { ACTIONS, DEFAULT_PIPELINE } from '../actions/registry.js';
import { ConfigError, errorMessage, EXIT } from '../errors.js';
import { CONFIG_VARIABLES } from '../config/config.js';
import { checkJobEnvironment, isFromSecrets, parseAssignment, sendsEmail, SETTABLE_VARIABLES } from './jobEnv.js';
import { parseDeployArgs, USAGE, type DeployOptions } from './options.js';
import { Redactor } from './redact.js';
import { checkSettings, DERIVED, loadSettings, SETTINGS, splitList, STEP_NEEDS, type LoadedSettings, type StepId } from './settings.js';
import { completeTaskDefinition, placeholders, readTemplate, renderTemplate, summarizeTaskDefinition, TEMPLATE_PATH } from './template.js';

// ---- what the tool talks to -------------------------------------------------------------------

/** Runs a program (no shell) with the terminal attached; `input` goes to its standard input. */
export type ProcessRunner = (command: string, args: readonly string[], options: { cwd: string; input?: string }) => Promise<number>;

export interface AwsClients {
  ecr: ECRClient;
  ecs: ECSClient;
}

export interface DeployDeps {
  /** Where the tool starts looking for deploy/ecs-task-definition.json (the repository root). */
  cwd: string;
  /** One line of output (already redacted). */
  out: (line: string) => void;
  /** Asks a question, resolves with the answer line. */
  prompt: (question: string) => Promise<string>;
  run: ProcessRunner;
  clients: (config: { region: string; profile?: string }) => AwsClients;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

export const EXIT_INTERRUPTED = 130;

class StepFailed extends Error {
  override readonly name = 'StepFailed';
}

class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

// ---- defaults for a person at a terminal --------------------------------------------------------

export const runProcess: ProcessRunner = (command, args, { cwd, input }) =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...args], { cwd, stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'] });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new StepFailed(`${command} not found on PATH`) : err),
    );
    child.once('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
    if (input !== undefined) child.stdin?.end(input);
  });

/** A prompt over one readline interface (answers piped in are buffered, not lost). */
function terminalPrompt(): { ask: (q: string) => Promise<string>; close: () => void } {
  let rl: ReturnType<typeof createInterface> | undefined;
  let lines: AsyncIterator<string> | undefined;
  let interrupted = false;
  return {
    async ask(question) {
      if (!rl) {
        rl = createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY) });
        rl.on('SIGINT', () => {
          interrupted = true;
          process.stdout.write('\n');
          rl?.close();
        });
        lines = rl[Symbol.asyncIterator]();
      }
      process.stdout.write(question);
      const next = await (lines as AsyncIterator<string>).next();
      if (interrupted) throw new Interrupted('interrupted');
      if (next.done) {
        process.stdout.write('\n');
        throw new ConfigError('no answer: standard input is closed; for a scripted run pass --yes (and --action or the --skip flags)');
      }
      return next.value;
    },
    close() {
      rl?.close();
    },
  };
}

function defaultClients({ region, profile }: { region: string; profile?: string }): AwsClients {
  return { ecr: new ECRClient({ region, profile }), ecs: new ECSClient({ region, profile }) };
}

// ---- helpers ----------------------------------------------------------------------------------

const STEPS: readonly { id: StepId; title: string }[] = [
  { id: 'login', title: 'SSO login' },
  { id: 'build', title: 'build the image' },
  { id: 'push', title: 'push the image to ECR' },
  { id: 'register', title: 'register the task definition' },
  { id: 'run', title: 'run a task' },
];

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map(quote).join(' ');
}

/** UTC `YYYYMMDD-HHMMSS`: sorts by time, valid as a Docker tag. */
export function timestampTag(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/** The folder holding deploy/ecs-task-definition.json, from `start` upwards; else `start`. */
function findRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, TEMPLATE_PATH))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}

export function checkActions(list: string): string[] {
  const names = splitList(list);
  if (names.length === 0) throw new ConfigError('no action given');
  const unknown = names.filter((n) => !(n in ACTIONS));
  if (unknown.length) {
    throw new ConfigError(`unknown action${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid actions: ${Object.keys(ACTIONS).join(', ')}`);
  }
  return names;
}

function awsError(err: unknown, profile: string | undefined): string {
  const name = err instanceof Error ? err.name : '';
  const msg = errorMessage(err);
  if (/ExpiredToken|expired|CredentialsProviderError|Could not load credentials|SSO/i.test(`${name} ${msg}`)) {
    return `${name}: ${msg} (sign in again: step 1, or aws sso login${profile ? ` --profile ${profile}` : ''})`;
  }
  if (/AccessDenied|not authorized/i.test(`${name} ${msg}`)) return `${name}: ${msg} (the signed-in role lacks this permission)`;
  return name ? `${name}: ${msg}` : msg;
}

// ---- the run ----------------------------------------------------------------------------------

class Session {
  private clientsCache?: AwsClients;
  registeredArn?: string;
  startedTaskArn?: string;
  readonly tag: string;
  readonly outcomes: string[] = [];

  constructor(
    readonly opts: DeployOptions,
    readonly deps: DeployDeps,
    readonly root: string,
    readonly settings: LoadedSettings,
    readonly template: unknown,
    readonly redactor: Redactor,
    /** Variables of the job for every run, from deploy/.env (besides the template's own). */
    readonly jobVars: Readonly<Record<string, string>>,
  ) {
    this.tag = timestampTag(deps.now());
  }

  get v(): Record<string, string> {
    return this.settings.values;
  }

  log(line = ''): void {
    this.deps.out(this.redactor.apply(line));
  }

  clients(): AwsClients {
    if (this.opts.dryRun) throw new Error('bug: an AWS client was requested in a dry run');
    this.clientsCache ??= this.deps.clients({ region: this.v.AWS_REGION, profile: this.v.AWS_PROFILE });
    return this.clientsCache;
  }

  async ask(question: string): Promise<string> {
    return this.deps.prompt(this.redactor.apply(question));
  }

  async confirm(question: string): Promise<boolean> {
    if (this.opts.yes) {
      this.log(`${question} [Y/n] y (--yes)`);
      return true;
    }
    for (let tries = 0; tries < 3; tries++) {
      const a = (await this.ask(`${question} [Y/n] `)).trim().toLowerCase();
      if (a === '' || a === 'y' || a === 'yes') return true;
      if (a === 'n' || a === 'no') return false;
      this.log('Please answer y or n.');
    }
    throw new ConfigError('no valid answer after three tries');
  }

  /** Runs a program, or prints it in a dry run; a non-zero exit fails the step. */
  async exec(command: string, args: string[], input?: { value: string; describe: string }): Promise<void> {
    const shown = formatCommand(command, args);
    if (this.opts.dryRun) {
      this.log(`  would run: ${shown}${input ? `   (standard input: ${input.describe})` : ''}`);
      return;
    }
    this.log(`  $ ${shown}`);
    const code = await this.deps.run(command, args, { cwd: this.root, input: input?.value });
    if (code !== 0) throw new StepFailed(`${shown} exited with code ${code}`);
  }

  /** Sends an SDK command, or prints it with its input in a dry run (returns undefined then). */
  async call<T>(label: string, input: unknown, send: () => Promise<T>): Promise<T | undefined> {
    if (this.opts.dryRun) {
      this.log(`  would call: ${label} ${JSON.stringify(input, null, 2).replace(/\n/g, '\n  ')}`);
      return undefined;
    }
    this.log(`  calling ${label}`);
    try {
      return await send();
    } catch (err) {
      throw new StepFailed(`${label} failed: ${awsError(err, this.v.AWS_PROFILE)}`);
    }
  }

  get registry(): string {
    return `${this.v.AWS_ACCOUNT_ID}.dkr.ecr.${this.v.AWS_REGION}.amazonaws.com`;
  }

  get localImage(): string {
    return `${this.v.ECR_REPOSITORY}:latest`;
  }

  // Step 1
  async login(): Promise<void> {
    await this.exec('aws', ['sso', 'login', '--profile', this.v.AWS_PROFILE]);
  }

  // Step 2
  async build(): Promise<void> {
    await this.exec('docker', ['build', '--platform', 'linux/amd64', '-t', this.localImage, '.']);
  }

  // Step 3
  async push(): Promise<void> {
    const remote = (tag: string) => `${this.registry}/${this.v.ECR_REPOSITORY}:${tag}`;
    let password = '';
    const auth = await this.call('ecr:GetAuthorizationToken', {}, () => this.clients().ecr.send(new GetAuthorizationTokenCommand({})));
    if (auth) {
      const data = auth.authorizationData?.[0];
      const token = data?.authorizationToken;
      if (!token) throw new StepFailed('ecr:GetAuthorizationToken returned no token');
      this.redactor.add(token);
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new StepFailed('ecr:GetAuthorizationToken returned a token of an unknown form');
      password = decoded.slice(colon + 1);
      this.redactor.add(password);
      this.redactor.add(decoded);
      const endpoint = (data?.proxyEndpoint ?? '').replace(/^https?:\/\//, '').replace(/\/+$/, '');
      if (endpoint && endpoint !== this.registry) {
        throw new StepFailed(
          `the signed-in account's registry is ${endpoint}, but deploy/.env names ${this.registry} ` +
            `(AWS_ACCOUNT_ID ${this.v.AWS_ACCOUNT_ID}, AWS_REGION ${this.v.AWS_REGION}): fix deploy/.env or use the right --profile`,
        );
      }
    }
    await this.exec('docker', ['login', '--username', 'AWS', '--password-stdin', this.registry], {
      value: password,
      describe: 'the password of ecr:GetAuthorizationToken',
    });
    for (const tag of ['latest', this.tag]) await this.exec('docker', ['tag', this.localImage, remote(tag)]);
    for (const tag of ['latest', this.tag]) await this.exec('docker', ['push', remote(tag)]);
    this.log(`  image: ${remote('latest')}`);
    this.log(`         ${remote(this.tag)}`);
  }

  renderTaskDefinition(): RegisterTaskDefinitionCommandInput {
    const { value, missing } = renderTemplate(this.template, this.v);
    if (missing.length) {
      throw new ConfigError(`${this.settings.path} has no value for ${missing.join(', ')} (used by ${TEMPLATE_PATH}); nothing was registered`);
    }
    return completeTaskDefinition(value, { environment: this.jobVars, taskRoleArn: this.v.TASK_ROLE_ARN }) as RegisterTaskDefinitionCommandInput;
  }

  /** The variables every run has: the template's ENVIRONMENT and LOG_LEVEL, then deploy/.env's. */
  get everyRun(): Record<string, string> {
    return { ENVIRONMENT: this.v.ENVIRONMENT, LOG_LEVEL: this.v.LOG_LEVEL, ...this.jobVars };
  }

  /** Step 5's menu: variables for this run only, one NAME=VALUE per answer, Enter to go on. */
  async askRunVariables(given: Record<string, string>): Promise<Record<string, string>> {
    const vars = { ...given };
    this.log(`  Variables for this run only (container overrides), e.g. LOOKBACK_HOURS=48; Enter when done.`);
    this.log(`  Known: ${SETTABLE_VARIABLES.join(', ')}`);
    for (let errors = 0; errors < 3; ) {
      const answer = (await this.ask(`Variable (NAME=VALUE, Enter when done): `)).trim();
      if (answer === '') return vars;
      try {
        const [name, value] = parseAssignment(answer);
        checkJobEnvironment({ ...vars, [name]: value }, answer, this.everyRun);
        vars[name] = value;
        errors = 0;
      } catch (err) {
        this.log(errorMessage(err));
        errors++;
      }
    }
    throw new ConfigError('no valid variable after three tries');
  }

  // Step 4: the summary comes before the question.
  async register(): Promise<boolean> {
    const input = this.renderTaskDefinition();
    this.log('');
    for (const line of summarizeTaskDefinition(input)) this.log(`  ${line}`);
    this.log('');
    if (!(await this.confirm(`Step 4/5: register this task definition in ${this.v.AWS_REGION}?`))) return false;
    const res = await this.call('ecs:RegisterTaskDefinition', input, () => this.clients().ecs.send(new RegisterTaskDefinitionCommand(input)));
    if (res) {
      const td = res.taskDefinition;
      if (!td?.taskDefinitionArn) throw new StepFailed('ecs:RegisterTaskDefinition returned no task definition');
      this.registeredArn = td.taskDefinitionArn;
      this.log(`  registered ${td.family}:${td.revision} (${td.taskDefinitionArn})`);
    }
    return true;
  }

  /** The actions of step 5: --action, --yes (default pipeline), or the menu; undefined = skip. */
  async chooseActions(): Promise<string[] | undefined> {
    if (this.opts.action !== undefined) {
      const names = checkActions(this.opts.action);
      this.log(`Step 5/5: run a task with ACTION=${names.join(',')} (--action)`);
      return names;
    }
    if (this.opts.yes) {
      this.log(`Step 5/5: run a task with the default pipeline ACTION=${DEFAULT_PIPELINE.join(',')} (--yes)`);
      return [...DEFAULT_PIPELINE];
    }
    const single = Object.keys(ACTIONS);
    const custom = single.length + 2;
    this.log(`Step 5/5: run a task on cluster ${this.v.ECS_CLUSTER}. Which actions?`);
    this.log(`  1) the default pipeline: ${DEFAULT_PIPELINE.join(',')}`);
    single.forEach((name, i) => this.log(`  ${i + 2}) ${name}`));
    this.log(`  ${custom}) a list you type (comma-separated, run in order)`);
    this.log('  0) none: skip this step');
    for (let tries = 0; tries < 3; tries++) {
      const answer = (await this.ask(`Choice [0-${custom}]: `)).trim();
      const n = /^\d+$/.test(answer) ? Number(answer) : NaN;
      if (n === 0) return undefined;
      if (n === 1) return [...DEFAULT_PIPELINE];
      if (n >= 2 && n < custom) return [single[n - 2]];
      if (n === custom) {
        for (let t = 0; t < 3; t++) {
          const typed = await this.ask(`Actions (${single.join(', ')}): `);
          try {
            return checkActions(typed);
          } catch (err) {
            this.log(errorMessage(err));
          }
        }
        throw new ConfigError('no valid action list after three tries');
      }
      this.log(`Please answer a number from 0 to ${custom}.`);
    }
    throw new ConfigError('no valid choice after three tries');
  }

  // Step 5
  async runTask(actions: string[], runVars: Record<string, string>): Promise<void> {
    if (sendsEmail(runVars) && !this.v.TASK_ROLE_ARN) {
      throw new ConfigError(`EMAIL_SENDER for this run needs a task role allowed ses:SendEmail: set TASK_ROLE_ARN in ${this.settings.path} (CDK output TaskRoleArn)`);
    }
    const environment = [
      { name: 'ACTION', value: actions.join(',') },
      ...Object.entries(runVars).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    ];
    const taskDefinition = this.registeredArn ?? this.v.TASK_FAMILY;
    const input: RunTaskCommandInput = {
      cluster: this.v.ECS_CLUSTER,
      taskDefinition,
      launchType: 'FARGATE',
      count: 1,
      startedBy: 'conflict-updater-deploy',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: splitList(this.v.SUBNETS),
          securityGroups: splitList(this.v.SECURITY_GROUPS),
          assignPublicIp: this.v.ASSIGN_PUBLIC_IP === 'ENABLED' ? 'ENABLED' : 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: this.v.CONTAINER_NAME, environment }],
        // The status email of this run: the role may not be on the registered revision.
        ...(sendsEmail(runVars) ? { taskRoleArn: this.v.TASK_ROLE_ARN } : {}),
      },
    };
    const res = await this.call('ecs:RunTask', input, () => this.clients().ecs.send(new RunTaskCommand(input)));
    if (!res) return;
    const failures = res.failures ?? [];
    const task = res.tasks?.[0];
    if (failures.length || !task?.taskArn) {
      const why = failures.map((f) => `${f.arn ?? ''} ${f.reason ?? ''} ${f.detail ?? ''}`.trim()).join('; ');
      throw new StepFailed(`ecs:RunTask started no task${why ? `: ${why}` : ''}`);
    }
    this.startedTaskArn = task.taskArn;
    const id = task.taskArn.split('/').pop() ?? task.taskArn;
    const region = this.v.AWS_REGION;
    const extra = Object.keys(runVars).sort().map((k) => `, ${k}=${runVars[k]}`).join('');
    this.log(`  started ${task.taskArn} (ACTION=${actions.join(',')}${extra}, ${taskDefinition})`);
    this.log(`  console: https://${region}.console.aws.amazon.com/ecs/v2/clusters/${this.v.ECS_CLUSTER}/tasks/${id}?region=${region}`);
    this.log(
      `  logs:    ${formatCommand('aws', [
        'logs', 'tail', this.v.LOG_GROUP, '--follow',
        '--log-stream-names', `${this.v.LOG_STREAM_PREFIX}/${this.v.CONTAINER_NAME}/${id}`,
        '--region', region,
        ...(this.v.AWS_PROFILE ? ['--profile', this.v.AWS_PROFILE] : []),
      ])}`,
    );
  }

  /** --wait: polls the task until it stops; true when the container exited 0. */
  async waitForTask(): Promise<boolean> {
    const arn = this.startedTaskArn;
    if (!arn) return true;
    let last = '';
    for (;;) {
      const res = await this.call('ecs:DescribeTasks', { cluster: this.v.ECS_CLUSTER, tasks: [arn] }, () =>
        this.clients().ecs.send(new DescribeTasksCommand({ cluster: this.v.ECS_CLUSTER, tasks: [arn] })),
      );
      const task = res?.tasks?.[0];
      const status = task?.lastStatus ?? 'UNKNOWN';
      if (status !== last) this.log(`  task ${status}`);
      last = status;
      if (status === 'STOPPED') {
        const container = task?.containers?.find((c) => c.name === this.v.CONTAINER_NAME) ?? task?.containers?.[0];
        const code = container?.exitCode;
        const reason = [task?.stoppedReason, container?.reason].filter(Boolean).join('; ');
        if (code === 0) {
          this.log('  the task succeeded (exit code 0)');
          return true;
        }
        this.log(`  the task failed: ${code === undefined ? 'the container did not run' : `exit code ${code}`}${reason ? ` (${reason})` : ''}`);
        const hint = EXIT_HINTS[String(code)];
        if (hint) this.log(`  ${hint}`);
        return false;
      }
      await this.deps.sleep(10_000);
    }
  }
}

const EXIT_HINTS: Record<string, string> = {
  '1': 'an action failed: see the log for the error',
  '2': 'configuration error: a variable or secret value is missing or malformed (the log names it)',
  '3': 'skipped: another run holds the lock; nothing was written',
  '137': 'killed, most likely out of memory: raise TASK_MEMORY and register again',
  '143': 'stopped by SIGTERM (ECS stopped the task); the open transaction was rolled back',
  undefined: 'see docs/deployment.md, troubleshooting (image pull, secrets access, log group)',
};

/**
 * The deploy tool. Returns the exit code: 0 done, 1 a step failed, 2 usage or settings error,
 * 130 interrupted. Never throws.
 */
export async function runDeploy(argv: readonly string[], partial: Partial<DeployDeps> = {}): Promise<number> {
  const term = partial.prompt ? undefined : terminalPrompt();
  const deps: DeployDeps = {
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    prompt: (q) => (term as ReturnType<typeof terminalPrompt>).ask(q),
    run: runProcess,
    clients: defaultClients,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ...partial,
  };
  const redactor = new Redactor();
  const say = (line: string) => deps.out(redactor.apply(line));
  try {
    return await deploy(argv, deps, redactor);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(`deploy: ${errorMessage(err)}`);
      return EXIT.config;
    }
    if (err instanceof Interrupted) {
      say('deploy: interrupted');
      return EXIT_INTERRUPTED;
    }
    say(`deploy: failed: ${errorMessage(err)}`);
    return EXIT.failed;
  } finally {
    term?.close();
  }
}

async function deploy(argv: readonly string[], deps: DeployDeps, redactor: Redactor): Promise<number> {
  const opts = parseDeployArgs(argv);
  if (opts.help) {
    for (const line of USAGE.split('\n')) deps.out(line);
    return EXIT.ok;
  }
  const root = findRoot(deps.cwd);
  const envPath = resolve(deps.cwd, opts.envFile ?? join(root, 'deploy', '.env'));
  const settings = loadSettings(envPath, { AWS_PROFILE: opts.profile, AWS_REGION: opts.region });
  for (const key of settings.secretKeys) redactor.add(settings.values[key]);
  const { jobVars, ignored } = jobVariablesOf(settings);
  for (const [key, derived] of Object.entries(DERIVED)) {
    const value = derived.value(settings.values);
    if (value !== undefined) settings.values[key] = value;
  }
  const templatePath = join(root, TEMPLATE_PATH);
  if (!existsSync(templatePath)) throw new ConfigError(`${templatePath} not found: run the tool from the repository`);
  const template = readTemplate(templatePath);
  if (opts.action !== undefined) checkActions(opts.action);

  // Everything the steps to run need is checked before the first step: a missing value should
  // not surface after a ten-minute build.
  const enabled = STEPS.filter((s) => !opts.skip.has(s.id)).map((s) => s.id);
  const needs = new Map<string, StepId[]>();
  const need = (key: string, step: StepId) => needs.set(key, [...(needs.get(key) ?? []), step]);
  for (const step of enabled) {
    for (const key of STEP_NEEDS[step]) need(key, step);
    if (step === 'register') for (const key of placeholders(template)) need(key, step);
  }
  const problems = checkSettings(settings.values, needs);
  if (problems.length) {
    const lines = [
      `${settings.path}${settings.exists ? '' : ' (the file does not exist: copy deploy/.env.example to it)'} ` +
        `has ${problems.some((p) => p.problem === 'invalid') ? 'missing or invalid' : 'missing'} values for the steps to run:`,
      ...problems.map((p) => `  ${p.key.padEnd(22)}${p.problem}: ${p.detail} (needed by: ${p.steps.join(', ')})`),
      `Fill them in, or leave those steps out (${[...new Set(problems.flatMap((p) => p.steps))].map((s) => `--skip-${s}`).join(' ')}). Nothing was run.`,
    ];
    throw new ConfigError(lines.join('\n'));
  }

  // The job's variables: those of every run (deploy/.env) when a task definition is registered,
  // with those of this run (--env) when a task runs; a bad name or value names itself here.
  const base = { ENVIRONMENT: settings.values.ENVIRONMENT, LOG_LEVEL: settings.values.LOG_LEVEL };
  if (enabled.includes('register')) {
    checkJobEnvironment(jobVars, settings.path, base);
    if (sendsEmail({ ...base, ...jobVars }) && !settings.values.TASK_ROLE_ARN) {
      throw new ConfigError(`${settings.path} sets EMAIL_SENDER: the task needs a role allowed ses:SendEmail; set TASK_ROLE_ARN (CDK output TaskRoleArn). Nothing was run.`);
    }
  }
  if (Object.keys(opts.env).length) checkJobEnvironment(opts.env, '--env', { ...base, ...jobVars });

  const s = new Session(opts, deps, root, settings, template, redactor, jobVars);
  const v = settings.values;
  s.log(`conflict-updater deploy${opts.dryRun ? ' (dry run: nothing is called)' : ''}`);
  s.log(
    `  settings ${settings.path}${settings.exists ? '' : ' (not found; defaults and flags only)'}; ` +
      `account ${v.AWS_ACCOUNT_ID ?? '-'}, region ${v.AWS_REGION ?? '-'}, profile ${v.AWS_PROFILE ?? '(default credentials)'}`,
  );
  for (const key of settings.secretKeys) {
    s.log(`  warning: ${key} in ${settings.path} looks like a secret; the job's secrets belong in Secrets Manager, the tool does not use it`);
  }
  for (const key of ignored.filter((k) => !settings.secretKeys.includes(k))) {
    s.log(`  warning: ${key} in ${settings.path} is not used: ECS injects it from Secrets Manager`);
  }
  if (Object.keys(jobVars).length) s.log(`  variables of the job for every run: ${Object.keys(jobVars).sort().join(', ')}`);

  for (const [i, step] of STEPS.entries()) {
    const n = `Step ${i + 1}/5`;
    s.log('');
    if (opts.skip.has(step.id)) {
      s.log(`${n}: ${step.title}: skipped (--skip-${step.id})`);
      s.outcomes.push(`${step.id}: skipped`);
      continue;
    }
    let done: boolean;
    switch (step.id) {
      case 'login':
        done = await s.confirm(`${n}: SSO login (aws sso login --profile ${v.AWS_PROFILE})?`);
        if (done) await s.login();
        break;
      case 'build':
        done = await s.confirm(`${n}: build the image ${s.localImage} from ${join(root, 'Dockerfile')}?`);
        if (done) await s.build();
        break;
      case 'push':
        done = await s.confirm(`${n}: push to ${s.registry}/${v.ECR_REPOSITORY} with tags latest and ${s.tag}?`);
        if (done) await s.push();
        break;
      case 'register':
        s.log(`${n}: register the task definition from ${TEMPLATE_PATH} and ${settings.path}`);
        done = await s.register();
        break;
      case 'run': {
        const actions = await s.chooseActions();
        done = actions !== undefined;
        if (actions) {
          // The menu asks for this run's variables; flags (--action, --yes) take --env as given.
          const interactive = opts.action === undefined && !opts.yes;
          const runVars = interactive ? await s.askRunVariables(opts.env) : opts.env;
          await s.runTask(actions, runVars);
        }
        break;
      }
    }
    s.outcomes.push(`${step.id}: ${done ? (opts.dryRun ? 'dry run' : 'done') : 'skipped'}`);
    if (!done) s.log(`${n}: skipped`);
  }

  let code: number = EXIT.ok;
  if (opts.wait && !opts.dryRun && s.startedTaskArn) {
    s.log('');
    s.log(`Waiting for ${s.startedTaskArn} to stop (--wait)`);
    if (!(await s.waitForTask())) code = EXIT.failed;
  }
  s.log('');
  s.log(`Summary: ${s.outcomes.join(', ')}`);
  return code;
}

/**
 * The job's variables in deploy/.env besides the deploy settings (ENVIRONMENT and LOG_LEVEL are
 * both, and fill the template). Names that are neither a setting nor a variable of the job are
 * refused; variables ECS injects from Secrets Manager are left out (`ignored`) with a warning.
 */
function jobVariablesOf(settings: LoadedSettings): { jobVars: Record<string, string>; ignored: string[] } {
  const jobVars: Record<string, string> = {};
  const ignored: string[] = [];
  const unknown: string[] = [];
  for (const key of settings.fileKeys) {
    if (key in SETTINGS) continue;
    if (key in DERIVED) {
      unknown.push(`${key}: set by the tool from ${DERIVED[key].from}, not in ${settings.path}`);
    } else if (CONFIG_VARIABLES.includes(key)) {
      if (isFromSecrets(key)) ignored.push(key);
      else jobVars[key] = settings.values[key];
    } else if (!settings.secretKeys.includes(key)) {
      unknown.push(`${key}: neither a deploy setting nor a variable of the job (deploy/.env.example lists the settings; the job's: ${SETTABLE_VARIABLES.join(', ')})`);
    }
  }
  if (unknown.length) throw new ConfigError(`${settings.path}:\n  ${unknown.join('\n  ')}\nNothing was run.`);
  return { jobVars, ignored };
}

/** `conflict-updater deploy …`: the arguments after "deploy"; resolves with the exit code. */
export async function deployCommand(argv: string[]): Promise<number> {
  return runDeploy(argv);
}

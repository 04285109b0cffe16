// The deploy tool (src/deploy) driven through runDeploy with aws-sdk-client-mock, a recording
// process runner and scripted prompts: nothing here calls AWS or Docker.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mockClient } from 'aws-sdk-client-mock';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { runDeploy, timestampTag, type DeployDeps } from '../../src/deploy/main.js';
import { DERIVED, parseEnvFile } from '../../src/deploy/settings.js';
import { placeholders, readTemplate, renderTemplate } from '../../src/deploy/template.js';
import { Redactor } from '../../src/deploy/redact.js';
import { assertNoSecret as assertNoneOf } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATE = join(root, 'deploy/ecs-task-definition.json');

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const SF_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:task02/snowflake-AbCdEf`;
const PG_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:task02/postgres-GhIjKl`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/conflict-updater-execution`;
const TD_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/task02-conflict-updater:7`;
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/conflict-batch-1/0123456789abcdef0123456789abcdef`;
const DEFAULT_PIPELINE = 'validate_config,test_connections,task02_00_run_conflict_update';

// The ECR password: what docker login gets on standard input and nothing else ever shows.
const ECR_PASSWORD = 'eyJwYXlsb2FkIjoiUzNjcjN0RUNSUGFzc3dvcmRWYWx1ZSIsImRhdGFrZXkiOiJBUUVCQUhoIn0=';
const ECR_TOKEN = Buffer.from(`AWS:${ECR_PASSWORD}`).toString('base64');
// Values a careless operator might leave in deploy/.env: never printed.
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj';
const PG_PASSWORD = 'correct-horse-battery-staple';

const FULL_ENV = `# test settings
AWS_ACCOUNT_ID=${ACCOUNT}
AWS_REGION=${REGION}
AWS_PROFILE=conflict-sso
EXECUTION_ROLE_ARN=${ROLE_ARN}
SNOWFLAKE_SECRET_ARN=${SF_ARN}
POSTGRES_SECRET_ARN=${PG_ARN}
SUBNETS=subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb
SECURITY_GROUPS=sg-0cccccccccccccccc
ASSIGN_PUBLIC_IP=DISABLED
ENVIRONMENT=prod
`;

const ecrMock = mockClient(ECRClient);
const ecsMock = mockClient(ECSClient);

after(() => {
  ecrMock.restore();
  ecsMock.restore();
});

/** A checkout-like folder: deploy/ecs-task-definition.json and deploy/.env. */
function workspace(envText: string | null = FULL_ENV): string {
  const dir = tempDir('deploy-test-');
  mkdirSync(join(dir, 'deploy'));
  cpSync(TEMPLATE, join(dir, 'deploy/ecs-task-definition.json'));
  if (envText !== null) writeFileSync(join(dir, 'deploy/.env'), envText);
  return dir;
}

interface ProcessCall {
  command: string;
  args: string[];
  input?: string;
}

function harness(dir: string, answers: string[] = [], runCode: (c: ProcessCall) => number = () => 0) {
  const out: string[] = [];
  const prompts: string[] = [];
  const processes: ProcessCall[] = [];
  let clientsMade = 0;
  const deps: Partial<DeployDeps> = {
    cwd: dir,
    out: (line) => out.push(line),
    prompt: async (q) => {
      prompts.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt: ${q}`);
      return a;
    },
    run: async (command, args, opts) => {
      const call = { command, args: [...args], input: opts.input };
      processes.push(call);
      return runCode(call);
    },
    clients: ({ region }) => {
      clientsMade++;
      return { ecr: new ECRClient({ region }), ecs: new ECSClient({ region }) };
    },
    now: () => new Date(Date.UTC(2026, 1, 10, 14, 30, 5)),
    sleep: async () => {},
  };
  return {
    deps,
    out,
    prompts,
    processes,
    text: () => [...out, ...prompts].join('\n'),
    clientsMade: () => clientsMade,
    answersLeft: () => answers.length,
  };
}

function runInput(): RunTaskCommandInput {
  const calls = ecsMock.commandCalls(RunTaskCommand);
  assert.equal(calls.length, 1, 'one ecs:RunTask call');
  return calls[0].args[0].input;
}

function actionOverride(input: RunTaskCommandInput): string | undefined {
  return input.overrides?.containerOverrides?.[0]?.environment?.find((e) => e.name === 'ACTION')?.value;
}

function assertNoSecret(text: string): void {
  assertNoneOf(text, [ECR_PASSWORD, ECR_TOKEN, PEM_BODY, PG_PASSWORD]);
  assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
}

beforeEach(() => {
  ecrMock.reset();
  ecsMock.reset();
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: ECR_TOKEN, proxyEndpoint: `https://${REGISTRY}` }],
  });
  ecsMock.on(RegisterTaskDefinitionCommand).resolves({
    taskDefinition: { taskDefinitionArn: TD_ARN, family: 'task02-conflict-updater', revision: 7 },
  });
  ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
});

describe('deploy --yes: the five steps', () => {
  it('logs in, builds, pushes both tags, registers the rendered template and runs the default pipeline', async () => {
    const h = harness(workspace());
    const code = await runDeploy(['--yes'], h.deps);
    assert.equal(code, 0, h.out.join('\n'));
    const tag = '20260210-143005';
    assert.deepEqual(
      h.processes.map((p) => [p.command, ...p.args].join(' ')),
      [
        'aws sso login --profile conflict-sso',
        'docker build --platform linux/amd64 -t conflict-snowflake:latest .',
        `docker login --username AWS --password-stdin ${REGISTRY}`,
        `docker tag conflict-snowflake:latest ${REGISTRY}/conflict-snowflake:latest`,
        `docker tag conflict-snowflake:latest ${REGISTRY}/conflict-snowflake:${tag}`,
        `docker push ${REGISTRY}/conflict-snowflake:latest`,
        `docker push ${REGISTRY}/conflict-snowflake:${tag}`,
      ],
    );
    // The password reaches docker on standard input only; no other process gets input.
    assert.equal(h.processes[2].input, ECR_PASSWORD);
    assert.ok(h.processes.every((p, i) => i === 2 || p.input === undefined));
    assert.ok(h.processes.every((p) => !p.args.some((a) => a.includes(ECR_PASSWORD))));

    assert.equal(ecrMock.commandCalls(GetAuthorizationTokenCommand).length, 1);
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 1);
    const run = runInput();
    assert.deepEqual(run, {
      cluster: 'conflict-batch-1',
      taskDefinition: TD_ARN, // the revision registered in step 4
      launchType: 'FARGATE',
      count: 1,
      startedBy: 'conflict-updater-deploy',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
          securityGroups: ['sg-0cccccccccccccccc'],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: 'task02-conflict-updater', environment: [{ name: 'ACTION', value: DEFAULT_PIPELINE }] }],
      },
    });
    const text = h.text();
    assert.match(text, new RegExp(`started ${TASK_ARN}`));
    assert.match(text, /aws logs tail \/ecs\/task02-conflict-updater --follow --log-stream-names task02\/task02-conflict-updater\/0123456789abcdef/);
    assertNoSecret(text);
    assert.equal(h.prompts.length, 0, '--yes asks nothing');
  });

  it('registers exactly the template filled from deploy/.env', async () => {
    const h = harness(workspace());
    assert.equal(await runDeploy(['--yes', '--skip-login', '--skip-build', '--skip-push', '--skip-run'], h.deps), 0, h.out.join('\n'));
    const calls = ecsMock.commandCalls(RegisterTaskDefinitionCommand);
    assert.equal(calls.length, 1);
    const input = calls[0].args[0].input;
    assert.deepEqual(input, {
      family: 'task02-conflict-updater',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
      executionRoleArn: ROLE_ARN,
      containerDefinitions: [
        {
          name: 'task02-conflict-updater',
          image: `${REGISTRY}/conflict-snowflake:latest`,
          essential: true,
          environment: [
            { name: 'ACTION', value: 'task02_00_run_conflict_update' },
            { name: 'ENVIRONMENT', value: 'prod' },
            { name: 'LOG_LEVEL', value: 'INFO' },
            // the heap cap of a 2048 MiB task (src/deploy/heap.ts; the image sets none)
            { name: 'NODE_OPTIONS', value: '--max-old-space-size=256' },
          ],
          secrets: [
            { name: 'SNOWFLAKE_ACCOUNT', valueFrom: `${SF_ARN}:account::` },
            { name: 'SNOWFLAKE_USER', valueFrom: `${SF_ARN}:user::` },
            { name: 'SNOWFLAKE_WAREHOUSE', valueFrom: `${SF_ARN}:warehouse::` },
            { name: 'SNOWFLAKE_PRIVATE_KEY', valueFrom: `${SF_ARN}:private_key::` },
            { name: 'POSTGRES_HOST', valueFrom: `${PG_ARN}:host::` },
            { name: 'POSTGRES_USER', valueFrom: `${PG_ARN}:user::` },
            { name: 'POSTGRES_PASSWORD', valueFrom: `${PG_ARN}:password::` },
          ],
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': '/ecs/task02-conflict-updater', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'task02' },
          },
          stopTimeout: 30,
        },
      ],
    });
    // The masked summary comes before the call and shows every secret as a reference only.
    const text = h.out.join('\n');
    const summaryAt = text.indexOf('Task definition task02-conflict-updater');
    const callAt = text.indexOf('calling ecs:RegisterTaskDefinition');
    assert.ok(summaryAt >= 0 && callAt > summaryAt, 'summary before the call');
    assert.match(text, /SNOWFLAKE_PRIVATE_KEY\s+\*\*\*\* from task02\/snowflake-AbCdEf, key private_key/);
    assert.match(text, /POSTGRES_PASSWORD\s+\*\*\*\* from task02\/postgres-GhIjKl, key password/);
    assert.match(text, /registered task02-conflict-updater:7/);
    assert.equal(ecsMock.commandCalls(RunTaskCommand).length, 0, '--skip-run runs no task');
    assert.equal(h.processes.length, 0);
  });

  it('runs the family (its latest revision) when step 4 did not register one', async () => {
    const h = harness(workspace());
    const code = await runDeploy(['--yes', '--skip-login', '--skip-build', '--skip-push', '--skip-register', '--action', 'test_connections'], h.deps);
    assert.equal(code, 0, h.out.join('\n'));
    const run = runInput();
    assert.equal(run.taskDefinition, 'task02-conflict-updater');
    assert.equal(actionOverride(run), 'test_connections');
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 0);
    assert.equal(ecrMock.calls().length, 0);
  });

  it('takes --profile, --region and --env-file over deploy/.env', async () => {
    const dir = workspace(null);
    const other = join(dir, 'other.env');
    writeFileSync(other, FULL_ENV.replace('ASSIGN_PUBLIC_IP=DISABLED', 'ASSIGN_PUBLIC_IP=ENABLED'));
    const h = harness(dir);
    const seen: string[] = [];
    h.deps.clients = ({ region, profile }) => {
      seen.push(`${region}/${profile}`);
      return { ecr: new ECRClient({ region }), ecs: new ECSClient({ region }) };
    };
    const code = await runDeploy(
      ['--yes', '--skip-build', '--skip-push', '--skip-register', '--profile=ops', '--region', 'eu-west-1', '--env-file', other, '--action=init_db'],
      h.deps,
    );
    assert.equal(code, 0, h.out.join('\n'));
    assert.deepEqual(h.processes[0].args, ['sso', 'login', '--profile', 'ops']);
    assert.deepEqual(seen, ['eu-west-1/ops']);
    assert.equal(runInput().networkConfiguration?.awsvpcConfiguration?.assignPublicIp, 'ENABLED');
    assert.equal(actionOverride(runInput()), 'init_db');
  });
});

describe('deploy interactive: Y/n prompts and the step 5 menu', () => {
  // Steps 1-4 declined, then the menu.
  const declineFour = ['n', 'n', 'n', 'n'];

  const menu: [string, string[], string][] = [
    ['1: the default pipeline', ['1'], DEFAULT_PIPELINE],
    ['2: validate_config', ['2'], 'validate_config'],
    ['3: test_connections', ['3'], 'test_connections'],
    ['4: task02_00_run_conflict_update', ['4'], 'task02_00_run_conflict_update'],
    ['5: init_db', ['5'], 'init_db'],
    ['6: a typed list', ['6', ' validate_config , init_db '], 'validate_config,init_db'],
    ['6: a typed list, re-asked after an unknown name', ['6', 'validate_config,nope', 'test_connections,validate_config'], 'test_connections,validate_config'],
    ['an invalid choice is asked again', ['9', 'x', '3'], 'test_connections'],
  ];
  for (const [name, answers, action] of menu) {
    it(`menu ${name} -> ACTION=${action}`, async () => {
      // The last answer: no variables for this run (Enter).
      const h = harness(workspace(), [...declineFour, ...answers, '']);
      const code = await runDeploy([], h.deps);
      assert.equal(code, 0, h.text());
      assert.equal(h.answersLeft(), 0);
      assert.equal(h.processes.length, 0, 'steps 1-3 declined');
      assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 0, 'step 4 declined');
      const run = runInput();
      assert.equal(actionOverride(run), action);
      assert.equal(run.taskDefinition, 'task02-conflict-updater');
      assert.equal(run.overrides?.containerOverrides?.[0]?.name, 'task02-conflict-updater');
      assert.equal(run.cluster, 'conflict-batch-1');
      assert.match(h.prompts[0], /Step 1\/5: SSO login \(aws sso login --profile conflict-sso\)\? \[Y\/n\]/);
    });
  }

  it('menu 0 runs no task', async () => {
    const h = harness(workspace(), [...declineFour, '0']);
    assert.equal(await runDeploy([], h.deps), 0);
    assert.equal(ecsMock.commandCalls(RunTaskCommand).length, 0);
    assert.equal(h.clientsMade(), 0, 'nothing needed AWS');
  });

  it('Enter means yes; the summary is shown before the step 4 question', async () => {
    const h = harness(workspace(), ['', '', '', '', '0']);
    assert.equal(await runDeploy([], h.deps), 0, h.text());
    assert.equal(h.processes.length, 7);
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 1);
    assert.ok(h.out.some((l) => l.includes('Task definition task02-conflict-updater')), 'summary printed before the 4th prompt');
    assert.match(h.prompts[3], /register this task definition/);
    assertNoSecret(h.text());
  });

  it('--action skips the menu; a declined step is reported as skipped', async () => {
    const h = harness(workspace(), ['n', 'y', 'n', 'n']);
    assert.equal(await runDeploy(['--action', 'validate_config'], h.deps), 0);
    assert.deepEqual(h.processes.map((p) => p.args[0]), ['build']);
    assert.equal(actionOverride(runInput()), 'validate_config');
    assert.match(h.out.join('\n'), /Summary: login: skipped, build: done, push: skipped, register: skipped, run: done/);
  });

  it('three answers that are neither y nor n end with exit 2', async () => {
    const h = harness(workspace(), ['maybe', 'perhaps', 'dunno']);
    assert.equal(await runDeploy([], h.deps), 2);
    assert.equal(h.processes.length, 0);
  });
});

describe('deploy refuses before doing anything', () => {
  it('names every missing deploy/.env value the chosen steps need (exit 2, no call)', async () => {
    const env = FULL_ENV.replace(/^AWS_ACCOUNT_ID=.*$/m, 'AWS_ACCOUNT_ID=').replace(/^POSTGRES_SECRET_ARN=.*$/m, '').replace(/^SUBNETS=.*$/m, '');
    const h = harness(workspace(env));
    const code = await runDeploy(['--yes'], h.deps);
    assert.equal(code, 2);
    const text = h.out.join('\n');
    assert.match(text, /AWS_ACCOUNT_ID\s+missing: .*\(needed by: push, register\)/);
    assert.match(text, /POSTGRES_SECRET_ARN\s+missing: .*\(needed by: register\)/);
    assert.match(text, /SUBNETS\s+missing: .*\(needed by: run\)/);
    assert.match(text, /Nothing was run/);
    assert.equal(h.processes.length, 0);
    assert.equal(h.clientsMade(), 0);
    assert.equal(ecrMock.calls().length + ecsMock.calls().length, 0);
  });

  it('asks only for the values of the steps that run', async () => {
    const h = harness(workspace('AWS_PROFILE=me\n'));
    assert.equal(await runDeploy(['--yes', '--skip-push', '--skip-register', '--skip-run'], h.deps), 0, h.out.join('\n'));
    assert.deepEqual(h.processes.map((p) => p.args[0]), ['sso', 'build']);
  });

  it('says when deploy/.env does not exist', async () => {
    const h = harness(workspace(null));
    assert.equal(await runDeploy(['--yes', '--skip-build'], h.deps), 2);
    assert.match(h.out.join('\n'), /does not exist: copy deploy\/\.env\.example/);
  });

  it('names malformed values', async () => {
    const env = FULL_ENV.replace('ASSIGN_PUBLIC_IP=DISABLED', 'ASSIGN_PUBLIC_IP=yes').replace(`AWS_ACCOUNT_ID=${ACCOUNT}`, 'AWS_ACCOUNT_ID=12345');
    const h = harness(workspace(env));
    assert.equal(await runDeploy(['--yes'], h.deps), 2);
    const text = h.out.join('\n');
    assert.match(text, /ASSIGN_PUBLIC_IP\s+invalid: expected ENABLED or DISABLED/);
    assert.match(text, /AWS_ACCOUNT_ID\s+invalid: expected 12 digits/);
    assert.equal(h.processes.length, 0);
  });

  it('rejects an unknown action, an unknown flag and contradicting flags with exit 2', async () => {
    for (const argv of [['--yes', '--action', 'validate_config,drop_everything'], ['--force'], ['--action'], ['--action', 'init_db', '--skip-run']]) {
      const h = harness(workspace());
      assert.equal(await runDeploy(argv, h.deps), 2, argv.join(' '));
      assert.equal(h.processes.length, 0);
      assert.equal(h.clientsMade(), 0);
    }
  });

  it('--help prints the usage and exits 0', async () => {
    const h = harness(workspace(null));
    assert.equal(await runDeploy(['--help'], h.deps), 0);
    assert.match(h.out.join('\n'), /--skip-register/);
  });
});

describe('deploy --dry-run', () => {
  it('prints every command and AWS call with its input, and makes none', async () => {
    const h = harness(workspace(`${FULL_ENV}POSTGRES_PASSWORD=${PG_PASSWORD}\n`));
    const code = await runDeploy(['--dry-run', '--yes', '--action', 'test_connections'], h.deps);
    assert.equal(code, 0, h.out.join('\n'));
    assert.equal(h.processes.length, 0, 'no process');
    assert.equal(h.clientsMade(), 0, 'no AWS client');
    assert.equal(ecrMock.calls().length + ecsMock.calls().length, 0, 'no AWS call');
    const text = h.out.join('\n');
    assert.match(text, /would run: aws sso login --profile conflict-sso/);
    assert.match(text, /would run: docker build --platform linux\/amd64 -t conflict-snowflake:latest \./);
    assert.match(text, /would call: ecr:GetAuthorizationToken \{\}/);
    assert.match(text, /would run: docker login --username AWS --password-stdin 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com {3}\(standard input: the password/);
    assert.match(text, /would run: docker push 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/conflict-snowflake:20260210-143005/);
    assert.match(text, /would call: ecs:RegisterTaskDefinition \{/);
    assert.match(text, /"valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:task02\/snowflake-AbCdEf:private_key::"/);
    assert.match(text, /would call: ecs:RunTask \{/);
    assert.match(text, /"value": "test_connections"/);
    assertNoSecret(text);
    assert.match(text, /warning: POSTGRES_PASSWORD in .* looks like a secret/);
  });
});

describe('deploy keeps secrets out of every line', () => {
  it('masks the ECR token and password and secret-looking .env values in every line, AWS messages included', async () => {
    const env = `${FULL_ENV}SNOWFLAKE_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\\n${PEM_BODY}\\n-----END PRIVATE KEY-----"\nPOSTGRES_PASSWORD=${PG_PASSWORD}\n`;
    // Text coming back from AWS passes through the same filter as the tool's own lines.
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: `echo ${ECR_PASSWORD} ${PG_PASSWORD} ${PEM_BODY}` }] });
    const h = harness(workspace(env));
    const code = await runDeploy(['--yes', '--skip-login', '--skip-build'], h.deps);
    assert.equal(code, 1);
    const text = h.text();
    assert.match(text, /ecs:RunTask started no task: echo \*\*\*\* \*\*\*\* \*\*\*\*/);
    assertNoSecret(text);
    assert.match(text, /SNOWFLAKE_PRIVATE_KEY in .* looks like a secret/);
    assert.match(text, /POSTGRES_PASSWORD in .* looks like a secret/);
    assert.equal(h.processes.find((p) => p.args[0] === 'login')?.input, ECR_PASSWORD);
  });

  it('a step failure message with a secret in it is masked', async () => {
    const h = harness(workspace(), [], (c) => (c.command === 'docker' && c.args[0] === 'login' ? 1 : 0));
    // The docker login failure message names the command, never its standard input.
    const code = await runDeploy(['--yes', '--skip-login', '--skip-build', '--skip-register', '--skip-run'], h.deps);
    assert.equal(code, 1);
    assert.match(h.out.join('\n'), /docker login --username AWS --password-stdin .* exited with code 1/);
    assertNoSecret(h.text());
  });

  it('the Redactor masks registered values, their JSON form, PEM blocks and access key ids', () => {
    const r = new Redactor();
    r.add('line1\nline2-secret');
    const out = r.apply(`a line1\nline2-secret b ${JSON.stringify('line1\nline2-secret')} AKIAABCDEFGHIJKLMNOP -----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----`);
    assert.ok(!out.includes('line2-secret'));
    assert.ok(!out.includes('AKIAABCDEFGHIJKLMNOP'));
    assert.ok(!out.includes('BEGIN RSA'));
  });
});

describe('deploy failures: exit 1, the following steps do not run', () => {
  it('a failing docker build stops before the push', async () => {
    const h = harness(workspace(), [], (c) => (c.args[0] === 'build' ? 1 : 0));
    const code = await runDeploy(['--yes', '--skip-login'], h.deps);
    assert.equal(code, 1);
    assert.match(h.out.join('\n'), /docker build .* exited with code 1/);
    assert.equal(h.processes.length, 1);
    assert.equal(ecrMock.calls().length + ecsMock.calls().length, 0);
  });

  it('refuses to push when the signed-in registry is not the one of deploy/.env', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: ECR_TOKEN, proxyEndpoint: 'https://999999999999.dkr.ecr.us-east-1.amazonaws.com' }],
    });
    const h = harness(workspace());
    const code = await runDeploy(['--yes', '--skip-login', '--skip-build'], h.deps);
    assert.equal(code, 1);
    assert.match(h.out.join('\n'), /registry is 999999999999\.dkr\.ecr\.us-east-1\.amazonaws\.com, but deploy\/\.env names 123456789012/);
    assert.equal(h.processes.length, 0, 'no docker login');
    assertNoSecret(h.text());
  });

  it('an AWS error fails the step with a hint', async () => {
    ecsMock.on(RegisterTaskDefinitionCommand).rejects(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' }));
    const h = harness(workspace());
    const code = await runDeploy(['--yes', '--skip-login', '--skip-build', '--skip-push'], h.deps);
    assert.equal(code, 1);
    assert.match(h.out.join('\n'), /ecs:RegisterTaskDefinition failed: ExpiredTokenException: .*aws sso login --profile conflict-sso/);
    assert.equal(ecsMock.commandCalls(RunTaskCommand).length, 0);
  });

  it('RunTask failures fail step 5', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/conflict-batch-1', reason: 'MISSING' }] });
    const h = harness(workspace());
    const code = await runDeploy(['--yes', '--skip-login', '--skip-build', '--skip-push', '--skip-register'], h.deps);
    assert.equal(code, 1);
    assert.match(h.out.join('\n'), /ecs:RunTask started no task: .*MISSING/);
  });
});

describe('deploy --wait', () => {
  const stopped = (exitCode: number | undefined, stoppedReason?: string) => ({
    tasks: [{ taskArn: TASK_ARN, lastStatus: 'STOPPED', stoppedReason, containers: [{ name: 'task02-conflict-updater', exitCode }] }],
  });
  const base = ['--yes', '--skip-login', '--skip-build', '--skip-push', '--skip-register', '--action', 'test_connections', '--wait'];

  it('polls until the task stops; exit 0 when the container exited 0', async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'PROVISIONING' }] })
      .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING' }] })
      .resolves(stopped(0));
    const h = harness(workspace());
    assert.equal(await runDeploy(base, h.deps), 0, h.out.join('\n'));
    assert.equal(ecsMock.commandCalls(DescribeTasksCommand).length, 3);
    assert.deepEqual(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input, { cluster: 'conflict-batch-1', tasks: [TASK_ARN] });
    assert.match(h.out.join('\n'), /task PROVISIONING[\s\S]*task RUNNING[\s\S]*task STOPPED[\s\S]*succeeded/);
  });

  it('exit 1 and a hint when the container was killed for memory (137)', async () => {
    ecsMock.on(DescribeTasksCommand).resolves(stopped(137, 'Essential container in task exited'));
    const h = harness(workspace());
    assert.equal(await runDeploy(base, h.deps), 1);
    assert.match(h.out.join('\n'), /exit code 137[\s\S]*out of memory: raise TASK_MEMORY/);
  });

  it('exit 1 when the container never ran (image pull, secrets)', async () => {
    ecsMock.on(DescribeTasksCommand).resolves(stopped(undefined, 'ResourceInitializationError: unable to pull secrets'));
    const h = harness(workspace());
    assert.equal(await runDeploy(base, h.deps), 1);
    assert.match(h.out.join('\n'), /the container did not run \(ResourceInitializationError/);
  });
});

describe('deploy/ecs-task-definition.json and deploy/.env.example', () => {
  const template = readTemplate(TEMPLATE);

  it('the template has the spec values and placeholders only for per-account values', () => {
    assert.deepEqual(placeholders(template), [
      'AWS_ACCOUNT_ID',
      'AWS_REGION',
      'CONTAINER_NAME',
      'ECR_REPOSITORY',
      'ENVIRONMENT',
      'EXECUTION_ROLE_ARN',
      'IMAGE_TAG',
      'LOG_GROUP',
      'LOG_LEVEL',
      'LOG_STREAM_PREFIX',
      'NODE_OPTIONS',
      'POSTGRES_SECRET_ARN',
      'SNOWFLAKE_SECRET_ARN',
      'TASK_CPU',
      'TASK_FAMILY',
      'TASK_MEMORY',
    ]);
    const t = template as Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] };
    assert.equal(t.networkMode, 'awsvpc');
    assert.deepEqual(t.requiresCompatibilities, ['FARGATE']);
    assert.deepEqual(t.runtimePlatform, { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' });
    assert.equal(t.containerDefinitions.length, 1);
    assert.equal(t.containerDefinitions[0].stopTimeout, 30);
    assert.equal(t.containerDefinitions[0].essential, true);
  });

  it('.env.example lists every template placeholder and every value the steps read', () => {
    const example = readFileSync(join(root, 'deploy/.env.example'), 'utf8');
    const keys = Object.keys(parseEnvFile(example));
    for (const k of placeholders(template)) assert.ok(keys.includes(k) || k in DERIVED, `${k} missing from .env.example`);
    assert.ok(!keys.includes('NODE_OPTIONS'), 'the heap cap is worked out from TASK_MEMORY, not set');
    for (const k of ['AWS_PROFILE', 'ECS_CLUSTER', 'SUBNETS', 'SECURITY_GROUPS', 'ASSIGN_PUBLIC_IP']) assert.ok(keys.includes(k), `${k} missing`);
  });

  it('a copied .env.example is refused until the account values are filled in', async () => {
    const h = harness(workspace(readFileSync(join(root, 'deploy/.env.example'), 'utf8')));
    assert.equal(await runDeploy(['--yes'], h.deps), 2);
    assert.match(h.out.join('\n'), /AWS_ACCOUNT_ID[\s\S]*EXECUTION_ROLE_ARN/);
  });

  it('renderTemplate fills placeholders once and reports the missing ones', () => {
    const { value, missing } = renderTemplate({ a: '${X}-${Y}', b: ['${Z}'], n: 30 }, { X: '${Y}', Y: 'y' });
    assert.deepEqual(value, { a: '${Y}-y', b: ['${Z}'], n: 30 });
    assert.deepEqual(missing, ['Z']);
  });

  it('parseEnvFile reads comments, quotes, export and multi-line quoted values', () => {
    assert.deepEqual(
      parseEnvFile('# c\nexport A=1\nB = "two words" # note\nC=\'x#y\'\nD=plain # note\nE="l1\nl2"\nF="a\\nb"\n\nbad line\n'),
      { A: '1', B: 'two words', C: 'x#y', D: 'plain', E: 'l1\nl2', F: 'a\nb' },
    );
  });

  it('timestampTag is UTC YYYYMMDD-HHMMSS', () => {
    assert.equal(timestampTag(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), '20260102-030405');
  });
});

// ---- the job's variables on ECS (operations.md, "Email and extra settings on ECS") -----------

const TASK_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/conflict-updater-task`;
const REGISTER_ONLY = ['--yes', '--skip-login', '--skip-build', '--skip-push', '--skip-run'];
const RUN_ONLY = ['--yes', '--skip-login', '--skip-build', '--skip-push', '--skip-register'];

function registeredEnvironment(): { name?: string; value?: string }[] {
  const calls = ecsMock.commandCalls(RegisterTaskDefinitionCommand);
  assert.equal(calls.length, 1);
  return calls[0].args[0].input.containerDefinitions?.[0]?.environment ?? [];
}

describe('deploy: variables of the job for every run (deploy/.env) and for one run (--env, menu)', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, family: 'task02-conflict-updater', revision: 7 } });
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
  });

  it('a job variable in deploy/.env goes into the registered task definition', async () => {
    const h = harness(workspace(`${FULL_ENV}POSTGRES_SSLMODE=require\nLOOKBACK_HOURS=48\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 0, h.text());
    assert.deepEqual(registeredEnvironment().slice(4), [
      { name: 'LOOKBACK_HOURS', value: '48' },
      { name: 'POSTGRES_SSLMODE', value: 'require' },
    ]);
    assert.match(h.text(), /variables of the job for every run: LOOKBACK_HOURS, POSTGRES_SSLMODE/);
  });

  it('POSTGRES_SSLROOTCERT in deploy/.env: a PEM is checked as the job checks it, a container path passes as it is (operations.md, "Security")', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----';
    const bad = harness(workspace(`${FULL_ENV}POSTGRES_SSLROOTCERT=${pem}\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, bad.deps), 2);
    assert.match(bad.text(), /POSTGRES_SSLROOTCERT: certificate 1 of 1 is not a valid X\.509 certificate/);
    const relative = harness(workspace(`${FULL_ENV}POSTGRES_SSLROOTCERT=certs/ca.pem\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, relative.deps), 2);
    assert.match(relative.text(), /POSTGRES_SSLROOTCERT must be the PEM itself or an absolute path inside the container/);
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 0);
    const path = harness(workspace(`${FULL_ENV}POSTGRES_SSLROOTCERT=/app/certs/ca.pem\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, path.deps), 0, path.text());
    assert.deepEqual(registeredEnvironment().find((e) => e.name === 'POSTGRES_SSLROOTCERT'), { name: 'POSTGRES_SSLROOTCERT', value: '/app/certs/ca.pem' });
  });

  it('TASK_MEMORY sets the heap cap of the registered task definition', async () => {
    const h = harness(workspace(`${FULL_ENV}TASK_MEMORY=4096\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 0, h.text());
    assert.deepEqual(registeredEnvironment().find((e) => e.name === 'NODE_OPTIONS'), { name: 'NODE_OPTIONS', value: '--max-old-space-size=512' });
  });

  it('refuses NODE_OPTIONS in deploy/.env: it follows TASK_MEMORY', async () => {
    const h = harness(workspace(`${FULL_ENV}NODE_OPTIONS=--max-old-space-size=4000\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 2);
    assert.match(h.text(), /NODE_OPTIONS: set by the tool from TASK_MEMORY/);
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 0);
  });

  it('refuses a TASK_MEMORY below Fargate\'s smallest task', async () => {
    const h = harness(workspace(`${FULL_ENV}TASK_MEMORY=256\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 2);
    assert.match(h.text(), /TASK_MEMORY\s+invalid: MiB, a Fargate size from 512 to 122880/);
  });

  it('refuses a name in deploy/.env that is neither a setting nor a variable of the job', async () => {
    const h = harness(workspace(`${FULL_ENV}POSTGRES_SSLMOD=require\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 2);
    assert.match(h.text(), /POSTGRES_SSLMOD: neither a deploy setting nor a variable of the job/);
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 0);
  });

  it('refuses a bad value of a job variable in deploy/.env with the job\'s own message', async () => {
    const h = harness(workspace(`${FULL_ENV}LOOKBACK_HOURS=two days\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 2);
    assert.match(h.text(), /LOOKBACK_HOURS must be a whole number, at least 1 \(got "two days"\)/);
  });

  it('a secret-wired variable in deploy/.env is not used and is named', async () => {
    const h = harness(workspace(`${FULL_ENV}POSTGRES_HOST=db.internal\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 0, h.text());
    assert.match(h.text(), /warning: POSTGRES_HOST in .* is not used: ECS injects it from Secrets Manager/);
    assert.ok(!registeredEnvironment().some((e) => e.name === 'POSTGRES_HOST'));
  });

  it('email for every run: the task role goes into the task definition; without TASK_ROLE_ARN it is refused', async () => {
    const email = 'EMAIL_SENDER=conflicts@example.com\nEMAIL_RECIPIENTS=ops@example.com,lead@example.com\n';
    const without = harness(workspace(`${FULL_ENV}${email}`));
    assert.equal(await runDeploy(REGISTER_ONLY, without.deps), 2);
    assert.match(without.text(), /sets EMAIL_SENDER: the task needs a role allowed ses:SendEmail; set TASK_ROLE_ARN/);
    assert.equal(ecsMock.commandCalls(RegisterTaskDefinitionCommand).length, 0);

    const h = harness(workspace(`${FULL_ENV}${email}TASK_ROLE_ARN=${TASK_ROLE_ARN}\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 0, h.text());
    const input = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
    assert.equal(input.taskRoleArn, TASK_ROLE_ARN);
    assert.deepEqual(registeredEnvironment().slice(4), [
      { name: 'EMAIL_RECIPIENTS', value: 'ops@example.com,lead@example.com' },
      { name: 'EMAIL_SENDER', value: 'conflicts@example.com' },
    ]);
    assert.match(h.text(), new RegExp(`task role\\s+${TASK_ROLE_ARN}`));
  });

  it('half an email setting is refused (the job\'s parser judges the pair)', async () => {
    const h = harness(workspace(`${FULL_ENV}EMAIL_SENDER=conflicts@example.com\nTASK_ROLE_ARN=${TASK_ROLE_ARN}\n`));
    assert.equal(await runDeploy(REGISTER_ONLY, h.deps), 2);
    assert.match(h.text(), /EMAIL_RECIPIENTS must be set when EMAIL_SENDER is set/);
  });

  it('--env NAME=VALUE reaches the run as container overrides, after ACTION', async () => {
    const h = harness(workspace());
    const code = await runDeploy([...RUN_ONLY, '--action', 'task02_00_run_conflict_update', '--env', 'LOOKBACK_HOURS=72', '--env=AS_OF=2026-02-14T06:00:00'], h.deps);
    assert.equal(code, 0, h.text());
    const run = runInput();
    assert.deepEqual(run.overrides?.containerOverrides?.[0]?.environment, [
      { name: 'ACTION', value: 'task02_00_run_conflict_update' },
      { name: 'AS_OF', value: '2026-02-14T06:00:00' },
      { name: 'LOOKBACK_HOURS', value: '72' },
    ]);
    assert.equal(run.overrides?.taskRoleArn, undefined);
    assert.match(h.text(), /ACTION=task02_00_run_conflict_update, AS_OF=2026-02-14T06:00:00, LOOKBACK_HOURS=72/);
  });

  const badEnv: [string, string, RegExp][] = [
    ['an unknown name', 'LOOKBACK_HOUR=48', /--env: LOOKBACK_HOUR is not a variable of the job; known: .*LOOKBACK_HOURS/],
    ['a bad value', 'BATCH_SIZE=0', /--env: BATCH_SIZE must be a whole number, at least 1 \(got "0"\)/],
    ['a bad boolean', 'ENABLE_INSERT=maybe', /ENABLE_INSERT must be one of true\/false\/1\/0\/yes\/no \(got "maybe"\)/],
    ['a secret', 'POSTGRES_PASSWORD=x', /POSTGRES_PASSWORD comes from Secrets Manager/],
    ['ACTION', 'ACTION=init_db', /ACTION cannot be set here: .*--action/],
    ['NODE_OPTIONS', 'NODE_OPTIONS=--max-old-space-size=4000', /NODE_OPTIONS is not a variable of the job|NODE_OPTIONS cannot be set here/],
    ['no equals sign', 'LOOKBACK_HOURS', /expected NAME=VALUE/],
    ['a lower-case name', 'lookback_hours=4', /expected NAME=VALUE with an upper-case variable name/],
  ];
  for (const [name, arg, message] of badEnv) {
    it(`--env refuses ${name} before anything runs (exit 2)`, async () => {
      const h = harness(workspace());
      assert.equal(await runDeploy([...RUN_ONLY, '--env', arg], h.deps), 2);
      assert.match(h.text(), message);
      assert.equal(ecsMock.commandCalls(RunTaskCommand).length, 0);
      assert.equal(h.clientsMade(), 0);
    });
  }

  it('--env with --skip-run contradicts itself', async () => {
    const h = harness(workspace());
    assert.equal(await runDeploy(['--skip-run', '--env', 'LOOKBACK_HOURS=48'], h.deps), 2);
    assert.match(h.text(), /--env and --skip-run contradict each other/);
  });

  it('email for one run passes the task role as an override; without TASK_ROLE_ARN it is refused', async () => {
    const args = [...RUN_ONLY, '--action', 'test_connections', '--env', 'EMAIL_SENDER=conflicts@example.com', '--env', 'EMAIL_RECIPIENTS=ops@example.com'];
    const without = harness(workspace());
    assert.equal(await runDeploy(args, without.deps), 2);
    assert.match(without.text(), /EMAIL_SENDER for this run needs a task role allowed ses:SendEmail: set TASK_ROLE_ARN/);
    assert.equal(ecsMock.commandCalls(RunTaskCommand).length, 0);

    const h = harness(workspace(`${FULL_ENV}TASK_ROLE_ARN=${TASK_ROLE_ARN}\n`));
    assert.equal(await runDeploy(args, h.deps), 0, h.text());
    assert.equal(runInput().overrides?.taskRoleArn, TASK_ROLE_ARN);
  });

  it('the menu asks for this run\'s variables, re-asks after a bad one, and sends the good ones', async () => {
    const h = harness(workspace(), ['n', 'n', 'n', 'n', '4', 'LOOKBACK_HOURS=abc', 'LOOKBACK_HOURS=48', 'NOPE=1', 'ENABLE_INSERT=false', '']);
    assert.equal(await runDeploy([], h.deps), 0, h.text());
    assert.equal(h.answersLeft(), 0);
    assert.deepEqual(runInput().overrides?.containerOverrides?.[0]?.environment, [
      { name: 'ACTION', value: 'task02_00_run_conflict_update' },
      { name: 'ENABLE_INSERT', value: 'false' },
      { name: 'LOOKBACK_HOURS', value: '48' },
    ]);
    assert.match(h.text(), /LOOKBACK_HOURS must be a whole number, at least 1 \(got "abc"\)/);
    assert.match(h.text(), /NOPE is not a variable of the job/);
  });

  it('the menu gives up after three bad variables in a row (exit 2, no task)', async () => {
    const h = harness(workspace(), ['n', 'n', 'n', 'n', '3', 'X=1', 'Y=2', 'BATCH_SIZE=-1']);
    assert.equal(await runDeploy([], h.deps), 2);
    assert.match(h.text(), /no valid variable after three tries/);
    assert.equal(ecsMock.commandCalls(RunTaskCommand).length, 0);
  });
});

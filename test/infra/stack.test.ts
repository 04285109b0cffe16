// The CDK stack (infra/lib/stack.ts) through aws-cdk-lib/assertions: each resource of the
// reference deployment, the exact secret-reading permission, the task definition as the
// template, and the optional schedule and alarm. Synthesis is local; nothing calls AWS.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConflictUpdaterStack, type ConflictUpdaterStackProps } from '../../infra/lib/stack.js';
import { placeholders, readTemplate } from '../../src/deploy/template.js';
import { tempDir } from '../helpers/tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENV = { account: '123456789012', region: 'us-east-1' };

// CDK's built-in CloudFormation schema validation takes ~20 s to start; one test below runs it
// on the stack with every option on, the others synthesize without it.
const validationWas = process.env.CDK_VALIDATION;
process.env.CDK_VALIDATION = 'false';
after(() => {
  if (validationWas === undefined) delete process.env.CDK_VALIDATION;
  else process.env.CDK_VALIDATION = validationWas;
});

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

function synth(props: ConflictUpdaterStackProps = {}): { template: Template; resources: Resources; stack: ConflictUpdaterStack } {
  const app = new App();
  const stack = new ConflictUpdaterStack(app, 'ConflictUpdater', { env: ENV, ...props });
  const template = Template.fromStack(stack);
  return { template, resources: (template.toJSON() as { Resources: Resources }).Resources, stack };
}

function logicalId(resources: Resources, type: string, pick?: (p: Record<string, unknown>) => boolean): string {
  const ids = Object.entries(resources)
    .filter(([, r]) => r.Type === type && (!pick || pick(r.Properties ?? {})))
    .map(([id]) => id);
  assert.equal(ids.length, 1, `one ${type}, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

const NETWORK = {
  subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
  securityGroupIds: ['sg-0cccccccccccccccc'],
};
const SCHEDULE = { expression: 'cron(0 6 * * ? *)', timeZone: 'America/New_York' };

describe('the stack with the defaults', () => {
  const { template, resources, stack } = synth();
  const sf = logicalId(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'task02/snowflake');
  const pg = logicalId(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'task02/postgres');
  const role = logicalId(resources, 'AWS::IAM::Role');
  const logGroup = logicalId(resources, 'AWS::Logs::LogGroup');
  const repo = logicalId(resources, 'AWS::ECR::Repository');

  it('has exactly the resources of the reference deployment', () => {
    const counts: Record<string, number> = {};
    for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    assert.deepEqual(counts, {
      'AWS::ECR::Repository': 1,
      'AWS::Logs::LogGroup': 1,
      'AWS::SecretsManager::Secret': 2,
      'AWS::IAM::Role': 1,
      'AWS::ECS::Cluster': 1,
      'AWS::ECS::TaskDefinition': 1,
    });
  });

  it('ECR repository conflict-snowflake: mutable tags, scan on push, kept on stack deletion', () => {
    template.hasResource('AWS::ECR::Repository', {
      Properties: Match.objectLike({
        RepositoryName: 'conflict-snowflake',
        ImageTagMutability: 'MUTABLE',
        ImageScanningConfiguration: { ScanOnPush: true },
        LifecyclePolicy: Match.objectLike({ LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":30') }),
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('log group /ecs/task02-conflict-updater with 30-day retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/task02-conflict-updater', RetentionInDays: 30 });
  });

  it('logical ids of the created secrets and cluster are the ones earlier versions of the stack deployed (no replacement)', () => {
    assert.equal(sf, 'SnowflakeSecret');
    assert.equal(pg, 'PostgresSecret');
    assert.equal(logicalId(resources, 'AWS::ECS::Cluster'), 'Cluster');
  });

  it('both secrets exist empty: no value, none generated; the operator sets them', () => {
    for (const id of [sf, pg]) {
      const p = resources[id].Properties ?? {};
      assert.equal(p.SecretString, undefined, `${id} has no SecretString`);
      assert.equal(p.GenerateSecretString, undefined, `${id} generates nothing`);
    }
    assert.match(String(resources[sf].Properties?.Description), /account, user, warehouse, private_key/);
    assert.match(String(resources[pg].Properties?.Description), /host, user, password/);
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain', Properties: { Name: 'task02/snowflake', Description: Match.anyValue() } });
  });

  it('execution role: ECS tasks only, AmazonECSTaskExecutionRolePolicy, and exactly GetSecretValue on the two secrets', () => {
    const p = resources[role].Properties as {
      AssumeRolePolicyDocument: { Statement: unknown[] };
      ManagedPolicyArns: unknown[];
      Policies: { PolicyName: string; PolicyDocument: { Statement: unknown[] } }[];
    };
    assert.deepEqual(p.AssumeRolePolicyDocument.Statement, [
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
    ]);
    assert.deepEqual(p.ManagedPolicyArns, [
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy']] },
    ]);
    assert.equal(p.Policies.length, 1);
    assert.deepEqual(p.Policies[0].PolicyDocument.Statement, [
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: [{ Ref: sf }, { Ref: pg }] },
    ]);
  });

  it('nothing else grants anything: no other policy, no secretsmanager permission elsewhere, no wildcard', () => {
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
    const text = JSON.stringify(template.toJSON());
    assert.equal(text.match(/secretsmanager:/g)?.length, 1, 'one secretsmanager action in the whole template');
    assert.doesNotMatch(text, /"Resource":"\*"/);
    assert.doesNotMatch(text, /secretsmanager:\*/);
  });

  it('cluster conflict-batch-1 without a VPC of its own, kept on stack deletion (other jobs share it)', () => {
    template.hasResource('AWS::ECS::Cluster', { Properties: { ClusterName: 'conflict-batch-1' }, DeletionPolicy: 'Retain' });
    template.resourceCountIs('AWS::EC2::VPC', 0);
  });

  it('task definition: family, Fargate, awsvpc, 1024/2048, X86_64 Linux, execution role', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'task02-conflict-updater',
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      ExecutionRoleArn: { 'Fn::GetAtt': [role, 'Arn'] },
      TaskRoleArn: Match.absent(),
    });
  });

  it('container: name, image from the repository, environment, awslogs, stopTimeout 30', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectEquals({
          Name: 'task02-conflict-updater',
          Essential: true,
          Image: {
            'Fn::Join': ['', [{ Ref: 'AWS::AccountId' }, '.dkr.ecr.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: repo }, ':latest']],
          },
          Environment: [
            { Name: 'ACTION', Value: 'task02_00_run_conflict_update' },
            { Name: 'ENVIRONMENT', Value: 'dev' },
            { Name: 'LOG_LEVEL', Value: 'INFO' },
            // the heap cap of a 2048 MiB task (src/deploy/heap.ts); the image sets none
            { Name: 'NODE_OPTIONS', Value: '--max-old-space-size=256' },
          ],
          Secrets: Match.anyValue(),
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: { 'awslogs-group': { Ref: logGroup }, 'awslogs-region': { Ref: 'AWS::Region' }, 'awslogs-stream-prefix': 'task02' },
          },
          StopTimeout: 30,
        }),
      ],
    });
  });

  it('the seven secrets are injected from the two secrets by key', () => {
    const from = (id: string, key: string) => ({ 'Fn::Join': ['', [{ Ref: id }, `:${key}::`]] });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: [
            { Name: 'SNOWFLAKE_ACCOUNT', ValueFrom: from(sf, 'account') },
            { Name: 'SNOWFLAKE_USER', ValueFrom: from(sf, 'user') },
            { Name: 'SNOWFLAKE_WAREHOUSE', ValueFrom: from(sf, 'warehouse') },
            { Name: 'SNOWFLAKE_PRIVATE_KEY', ValueFrom: from(sf, 'private_key') },
            { Name: 'POSTGRES_HOST', ValueFrom: from(pg, 'host') },
            { Name: 'POSTGRES_USER', ValueFrom: from(pg, 'user') },
            { Name: 'POSTGRES_PASSWORD', ValueFrom: from(pg, 'password') },
          ],
        }),
      ],
    });
  });

  it('is deploy/ecs-task-definition.json: every field of the template, nothing more', () => {
    const tpl = readTemplate(join(root, 'deploy/ecs-task-definition.json')) as Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] };
    const td = resources[logicalId(resources, 'AWS::ECS::TaskDefinition')].Properties as Record<string, unknown> & { ContainerDefinitions: Record<string, unknown>[] };
    const pascal = (k: string) => k[0].toUpperCase() + k.slice(1);
    assert.deepEqual(Object.keys(td).filter((k) => k !== 'Tags').sort(), Object.keys(tpl).map(pascal).sort());
    assert.deepEqual(Object.keys(td.ContainerDefinitions[0]).sort(), Object.keys(tpl.containerDefinitions[0]).map(pascal).sort());
    assert.ok(placeholders(tpl).length > 0);
  });

  it('outputs the values deploy/.env needs', () => {
    for (const o of ['RepositoryUri', 'ClusterName', 'TaskDefinitionArn', 'ExecutionRoleArn', 'SnowflakeSecretArn', 'PostgresSecretArn', 'LogGroupName']) {
      template.hasOutput(o, Match.anyValue());
    }
    assert.ok(stack.taskDefinition);
  });

  it('no schedule, no alarm and no task role by default', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    assert.equal(stack.taskRole, undefined);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });
});

describe('names and sizes from props', () => {
  it('every name of the reference deployment can be changed', () => {
    const { template, resources } = synth({
      repositoryName: 'conflict-prod',
      clusterName: 'batch-prod',
      family: 'conflict-prod',
      containerName: 'job',
      logGroupName: '/ecs/conflict-prod',
      logStreamPrefix: 'prod',
      snowflakeSecretName: 'prod/snowflake',
      postgresSecretName: 'prod/postgres',
      imageTag: '20260210-143005',
      cpu: 2048,
      memoryMiB: 4096,
      environment: 'prod',
      logLevel: 'DEBUG',
    });
    template.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'conflict-prod' });
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'batch-prod' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/conflict-prod', RetentionInDays: 30 });
    logicalId(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'prod/snowflake');
    logicalId(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'prod/postgres');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'conflict-prod',
      Cpu: '2048',
      Memory: '4096',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'job',
          Image: { 'Fn::Join': ['', Match.arrayWith([':20260210-143005'])] },
          Environment: Match.arrayWith([
            { Name: 'ENVIRONMENT', Value: 'prod' },
            { Name: 'LOG_LEVEL', Value: 'DEBUG' },
            { Name: 'NODE_OPTIONS', Value: '--max-old-space-size=512' },
          ]),
          LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-stream-prefix': 'prod' }) }),
          StopTimeout: 30,
        }),
      ],
    });
  });
});

describe('existing accounts: adopt instead of create (operations.md, "Existing accounts")', () => {
  const SF_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:task02/snowflake-AbCdEf';
  const PG_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:task02/postgres-GhIjKl';
  const ALL = { repository: true, logGroup: true, cluster: true } as const;

  function secretStatement(resources: Resources): unknown {
    const role = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('AmazonECSTaskExecutionRolePolicy'));
    const p = resources[role].Properties as { Policies: { PolicyDocument: { Statement: unknown[] } }[] };
    assert.equal(p.Policies.length, 1);
    return p.Policies[0].PolicyDocument.Statement;
  }

  it('adopting all by name creates none of them, and the task definition uses their names', () => {
    const { template, resources } = synth({ existing: { ...ALL, snowflakeSecret: true, postgresSecret: true } });
    for (const type of ['AWS::ECR::Repository', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret', 'AWS::ECS::Cluster']) {
      template.resourceCountIs(type, 0);
    }
    const counts: Record<string, number> = {};
    for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    assert.deepEqual(counts, { 'AWS::IAM::Role': 1, 'AWS::ECS::TaskDefinition': 1 }, 'only what the account lacks');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Image: { 'Fn::Join': ['', Match.arrayWith(['.amazonaws.com/conflict-snowflake:latest'])] },
          LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-group': '/ecs/task02-conflict-updater' }) }),
          Secrets: Match.arrayWith([
            { Name: 'SNOWFLAKE_ACCOUNT', ValueFrom: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:task02/snowflake:account::']] } },
            { Name: 'POSTGRES_PASSWORD', ValueFrom: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:task02/postgres:password::']] } },
          ]),
        }),
      ],
    });
    // By name the ARN is partial: the permission matches Secrets Manager's 6-character suffix, of exactly these two.
    const sfPolicy = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:task02/snowflake-??????']] };
    const pgPolicy = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:task02/postgres-??????']] };
    assert.deepEqual(secretStatement(resources), [{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: [sfPolicy, pgPolicy] }]);
    template.hasOutput('ClusterName', { Value: 'conflict-batch-1' });
  });

  it('secrets adopted by complete ARN: the task definition and the permission name exactly those ARNs', () => {
    const { template, resources } = synth({ existing: { snowflakeSecret: SF_ARN, postgresSecret: PG_ARN } });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    assert.deepEqual(secretStatement(resources), [{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: [SF_ARN, PG_ARN] }]);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Secrets: Match.arrayWith([{ Name: 'SNOWFLAKE_PRIVATE_KEY', ValueFrom: `${SF_ARN}:private_key::` }, { Name: 'POSTGRES_HOST', ValueFrom: `${PG_ARN}:host::` }]) })],
    });
    // The rest is created as without adoption.
    template.resourceCountIs('AWS::ECR::Repository', 1);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
  });

  it('configured names are adopted under those names', () => {
    const { template } = synth({
      repositoryName: 'conflict-prod',
      logGroupName: '/ecs/conflict-prod',
      clusterName: 'batch-prod',
      snowflakeSecretName: 'prod/snowflake',
      postgresSecretName: 'prod/postgres',
      existing: { ...ALL, snowflakeSecret: true, postgresSecret: true },
    });
    const text = JSON.stringify(template.toJSON());
    for (const n of ['conflict-prod:latest', '/ecs/conflict-prod', 'secret:prod/snowflake-??????', 'secret:prod/postgres:password::']) {
      assert.ok(text.includes(n), `${n} in the template`);
    }
    template.hasOutput('ClusterName', { Value: 'batch-prod' });
    // The schedule and the task state rule name the adopted cluster by its ARN.
    const withSchedule = synth({ clusterName: 'batch-prod', existing: { cluster: true }, network: NETWORK, schedule: SCHEDULE, alarm: {} });
    assert.ok(JSON.stringify(withSchedule.template.toJSON()).includes(':ecs:us-east-1:123456789012:cluster/batch-prod'));
  });

  it('refuses a secret ARN that is not complete', () => {
    assert.throws(() => synth({ existing: { snowflakeSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:task02/snowflake', postgresSecret: PG_ARN } }), /existing snowflakeSecret must be the secret's complete ARN, ending in -<6 characters>/);
    assert.throws(() => synth({ existing: { postgresSecret: 'task02/postgres' } }), /existing postgresSecret must be the secret's complete ARN/);
  });

  it('what the stack creates and others may share is retained on cdk destroy; nothing adopted is in the template to delete', () => {
    const { resources } = synth();
    for (const [, r] of Object.entries(resources as Record<string, { Type: string; DeletionPolicy?: string }>)) {
      if (['AWS::ECR::Repository', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret', 'AWS::ECS::Cluster'].includes(r.Type)) {
        assert.equal(r.DeletionPolicy, 'Retain', `${r.Type} retained`);
      }
    }
  });

  it('the network: given security groups are used as they are; with only a VPC one is created with 443 and 5432 out', () => {
    const given = synth({ network: NETWORK, schedule: SCHEDULE });
    given.template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    given.template.resourceCountIs('AWS::EC2::VPC', 0);
    given.template.resourceCountIs('AWS::EC2::Subnet', 0);
    const created = synth({ network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: NETWORK.subnetIds }, schedule: SCHEDULE });
    const sg = logicalId(created.resources, 'AWS::EC2::SecurityGroup');
    created.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0123456789abcdef0',
      SecurityGroupEgress: [
        Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' }),
        Match.objectLike({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, CidrIp: '0.0.0.0/0' }),
      ],
    });
    created.template.resourceCountIs('AWS::EC2::VPC', 0);
    created.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ EcsParameters: Match.objectLike({ NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ SecurityGroups: [{ 'Fn::GetAtt': [sg, 'GroupId'] }] }) } }) }),
    });
    created.template.hasOutput('SecurityGroupIds', Match.anyValue());
  });

  it('refuses a network without subnets, or without security groups and a VPC to create one in', () => {
    assert.throws(() => synth({ network: { subnetIds: [], securityGroupIds: ['sg-0cccccccccccccccc'] } }), /network needs subnetIds/);
    assert.throws(() => synth({ network: { subnetIds: NETWORK.subnetIds } }), /network needs securityGroupIds, or vpcId/);
  });
});

describe('variables of the job and the status email on ECS (operations.md, "Email and extra settings on ECS")', () => {
  it('jobEnvironment goes into the task definition after the template\'s variables', () => {
    const { template } = synth({ jobEnvironment: { POSTGRES_SSLMODE: 'require', LOOKBACK_HOURS: '48', MAX_RUN_MINUTES: '45' } });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: [
            { Name: 'ACTION', Value: 'task02_00_run_conflict_update' },
            { Name: 'ENVIRONMENT', Value: 'dev' },
            { Name: 'LOG_LEVEL', Value: 'INFO' },
            { Name: 'NODE_OPTIONS', Value: '--max-old-space-size=256' },
            { Name: 'LOOKBACK_HOURS', Value: '48' },
            { Name: 'MAX_RUN_MINUTES', Value: '45' },
            { Name: 'POSTGRES_SSLMODE', Value: 'require' },
          ],
        }),
      ],
      TaskRoleArn: Match.absent(),
    });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['an unknown name', { POSTGRES_SSLMOD: 'require' }, /POSTGRES_SSLMOD is not a variable of the job/],
    ['a bad value', { LOOKBACK_HOURS: 'two' }, /LOOKBACK_HOURS must be a whole number/],
    ['a secret', { POSTGRES_PASSWORD: 'x' }, /POSTGRES_PASSWORD comes from Secrets Manager/],
    ['NODE_OPTIONS', { NODE_OPTIONS: '--max-old-space-size=9999' }, /NODE_OPTIONS cannot be set here: the heap cap follows the task memory/],
    ['half an email setting', { EMAIL_SENDER: 'conflicts@example.com' }, /EMAIL_RECIPIENTS must be set when EMAIL_SENDER is set/],
    ['a bad MAX_RUN_MINUTES', { MAX_RUN_MINUTES: '0' }, /MAX_RUN_MINUTES must be a whole number, at least 1 \(got "0"\)/],
    // The alarms' dimension and the template take them from `environment` / `logLevel`.
    ['ENVIRONMENT', { ENVIRONMENT: 'prod' }, /set ENVIRONMENT with the context key environment/],
    ['LOG_LEVEL', { LOG_LEVEL: 'DEBUG' }, /set LOG_LEVEL with the context key logLevel/],
  ];
  for (const [name, env, message] of bad) {
    it(`refuses ${name} in jobEnvironment`, () => {
      assert.throws(() => synth({ jobEnvironment: env }), message);
    });
  }

  it('EMAIL_SENDER: a task role allowed ses:SendEmail from that sender through its identity, nothing else', () => {
    const { template, resources } = synth({ jobEnvironment: { EMAIL_SENDER: 'conflicts@example.com', EMAIL_RECIPIENTS: 'ops@example.com' } });
    const taskRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('ses:SendEmail'));
    const identity = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:us-east-1:123456789012:identity/conflicts@example.com']] };
    const p = resources[taskRole].Properties as { ManagedPolicyArns?: unknown; Policies: { PolicyDocument: { Statement: unknown[] } }[] };
    assert.equal(p.ManagedPolicyArns, undefined);
    assert.deepEqual(p.Policies.map((x) => x.PolicyDocument.Statement), [
      [{ Action: 'ses:SendEmail', Effect: 'Allow', Resource: identity, Condition: { StringEquals: { 'ses:FromAddress': 'conflicts@example.com' } } }],
    ]);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      TaskRoleArn: { 'Fn::GetAtt': [taskRole, 'Arn'] },
      ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'EMAIL_RECIPIENTS', Value: 'ops@example.com' }, { Name: 'EMAIL_SENDER', Value: 'conflicts@example.com' }]) })],
    });
    template.hasOutput('TaskRoleArn', Match.anyValue());
    assert.equal(JSON.stringify(template.toJSON()).match(/ses:SendEmail/g)?.length, 1, 'one SES permission in the whole template');
  });

  it('emailIdentity names the verified domain the sender belongs to', () => {
    const { template } = synth({ jobEnvironment: { EMAIL_SENDER: 'conflicts@example.com', EMAIL_RECIPIENTS: 'ops@example.com' }, emailIdentity: 'example.com' });
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: [Match.objectLike({ PolicyDocument: { Statement: [Match.objectLike({ Resource: { 'Fn::Join': ['', Match.arrayWith([':ses:us-east-1:123456789012:identity/example.com'])] } })] } })],
    });
  });
});

describe('schedule: EventBridge Scheduler with a time zone, retries and a dead-letter queue', () => {
  it('runs the task definition on the cluster in the given network, at the local hour of the time zone', () => {
    const { template, resources } = synth({ network: NETWORK, schedule: { ...SCHEDULE, action: 'test_connections' } });
    const cluster = logicalId(resources, 'AWS::ECS::Cluster');
    const td = logicalId(resources, 'AWS::ECS::TaskDefinition');
    const dlq = logicalId(resources, 'AWS::SQS::Queue');
    const execRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('AmazonECSTaskExecutionRolePolicy'));
    const schedulerRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('scheduler.amazonaws.com'));
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'America/New_York',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [cluster, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [schedulerRole, 'Arn'] },
        EcsParameters: {
          TaskDefinitionArn: { Ref: td },
          TaskCount: 1,
          LaunchType: 'FARGATE',
          PlatformVersion: 'LATEST',
          NetworkConfiguration: { AwsvpcConfiguration: { Subnets: NETWORK.subnetIds, SecurityGroups: NETWORK.securityGroupIds, AssignPublicIp: 'DISABLED' } },
        },
        Input: JSON.stringify({ containerOverrides: [{ name: 'task02-conflict-updater', environment: [{ name: 'ACTION', value: 'test_connections' }] }] }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
      },
    });
    // The scheduler may start this task definition on this cluster, pass the task's role, and write to its DLQ: nothing else.
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: schedulerRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'ecs:RunTask', Effect: 'Allow', Resource: { Ref: td }, Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [cluster, 'Arn'] } } } },
          { Action: 'iam:PassRole', Effect: 'Allow', Resource: { 'Fn::GetAtt': [execRole, 'Arn'] }, Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
          Match.objectLike({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [dlq, 'Arn'] } }),
        ]),
      },
    });
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy');
    assert.equal((policy?.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement.length, 3);
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
    // The secret permission is still exactly one statement on the execution role.
    assert.equal(JSON.stringify(template.toJSON()).match(/secretsmanager:/g)?.length, 1);
    template.resourceCountIs('AWS::Events::Rule', 0);
  });

  it('without an action or time zone: the task definition decides ACTION, the hour is UTC; public IP and disabled on request', () => {
    const { template } = synth({ network: { ...NETWORK, assignPublicIp: true }, schedule: { expression: 'rate(12 hours)', enabled: false } });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(12 hours)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'DISABLED',
      Target: Match.objectLike({
        Input: Match.absent(),
        EcsParameters: Match.objectLike({ NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) } }),
      }),
    });
  });

  it('with an email task role, the scheduler may pass that role too', () => {
    const { template, resources } = synth({ network: NETWORK, schedule: SCHEDULE, jobEnvironment: { EMAIL_SENDER: 'a@example.com', EMAIL_RECIPIENTS: 'b@example.com' } });
    const taskRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('ses:SendEmail'));
    const execRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('AmazonECSTaskExecutionRolePolicy'));
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'iam:PassRole', Resource: [{ 'Fn::GetAtt': [execRole, 'Arn'] }, { 'Fn::GetAtt': [taskRole, 'Arn'] }] })]) },
    });
  });

  it('refuses a schedule without a network, a malformed expression, or a time zone that is not an IANA name', () => {
    assert.throws(() => synth({ schedule: SCHEDULE }), /schedule needs network subnetIds and securityGroupIds/);
    assert.throws(() => synth({ network: NETWORK, schedule: { expression: '0 6 * * *' } }), /cron\(…\) or rate\(…\)/);
    assert.throws(() => synth({ network: NETWORK, schedule: { ...SCHEDULE, timeZone: 'Eastern' } }), /schedule time zone must be an IANA name such as America\/New_York, got "Eastern"/);
  });
});

describe('failure detection: all to one SNS topic', () => {
  it('the job metric ConflictUpdater/RunFailed of this Environment', () => {
    const { template, resources } = synth({ environment: 'prod', alarm: { email: 'ops@example.com' } });
    const topic = logicalId(resources, 'AWS::SNS::Topic');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ConflictUpdater',
      MetricName: 'RunFailed',
      Dimensions: [{ Name: 'Environment', Value: 'prod' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topic }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topic } });
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
    template.hasOutput('AlarmTopicArn', Match.anyValue());
  });

  it('no successful run in N hours: runs reported minus failed minus skipped, over one N-hour period; no data is breaching', () => {
    const { template, resources } = synth({ environment: 'prod', alarm: { noSuccessHours: 30 } });
    const topic = logicalId(resources, 'AWS::SNS::Topic');
    const metric = (id: string, name: string, stat: string) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: 'ConflictUpdater', MetricName: name, Dimensions: [{ Name: 'Environment', Value: 'prod' }] }, Period: 108000, Stat: stat },
      ReturnData: false,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'conflict-updater (prod): no successful run in the last 30 hours',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(runs, 0) - FILL(failed, 0) - FILL(skipped, 0)', ReturnData: true }),
        metric('runs', 'RunFailed', 'SampleCount'),
        metric('failed', 'RunFailed', 'Sum'),
        metric('skipped', 'RunSkipped', 'Sum'),
      ]),
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: topic }],
    });
    assert.throws(() => synth({ alarm: { noSuccessHours: 169 } }), /noSuccessHours must be a whole number from 1 to 168/);
    assert.throws(() => synth({ alarm: { noSuccessHours: 0 } }), /noSuccessHours/);
  });

  it('an EventBridge rule on ECS task state changes: this family on this cluster stopped non-zero or failed to start, to the topic', () => {
    const { template, resources } = synth({ alarm: {} });
    const topic = logicalId(resources, 'AWS::SNS::Topic');
    const cluster = logicalId(resources, 'AWS::ECS::Cluster');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: {
          clusterArn: [{ 'Fn::GetAtt': [cluster, 'Arn'] }],
          lastStatus: ['STOPPED'],
          taskDefinitionArn: [{ prefix: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:task-definition/task02-conflict-updater:']] } }],
          $or: [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }],
        },
      },
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { Ref: topic }, InputTransformer: Match.objectLike({ InputPathsMap: Match.objectLike({ 'detail-taskArn': '$.detail.taskArn' }) }) })],
    });
    // EventBridge may publish to the topic.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })] },
    });
  });

  it('with a schedule: a message in its dead-letter queue (a run the scheduler could not start) alarms the same topic', () => {
    const { template, resources } = synth({ network: NETWORK, schedule: SCHEDULE, alarm: {} });
    const topic = logicalId(resources, 'AWS::SNS::Topic');
    const dlq = logicalId(resources, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: topic }],
    });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it('source logs: a metric filter on "Status: failed" in the log group', () => {
    const { template, resources } = synth({ alarm: { source: 'logs' } });
    const logGroup = logicalId(resources, 'AWS::Logs::LogGroup');
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logGroup },
      FilterPattern: '"Status: failed"',
      MetricTransformations: [{ MetricNamespace: 'ConflictUpdater', MetricName: 'StatusFailedLines-dev', MetricValue: '1' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ConflictUpdater',
      MetricName: 'StatusFailedLines-dev',
      Statistic: 'Sum',
      Threshold: 1,
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('CloudFormation schema validation (CDK built-in, offline)', () => {
  it('finds nothing in the stack with every option on', () => {
    const outdir = tempDir('cdk-validate-');
    try {
      delete process.env.CDK_VALIDATION;
      // Violations are errors here, so a malformed property fails synthesis.
      const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
      new ConflictUpdaterStack(app, 'ConflictUpdater', {
        env: ENV,
        network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: NETWORK.subnetIds },
        schedule: { ...SCHEDULE, action: 'validate_config' },
        alarm: { source: 'logs', email: 'ops@example.com' },
        jobEnvironment: { EMAIL_SENDER: 'a@example.com', EMAIL_RECIPIENTS: 'b@example.com' },
      });
      app.synth();
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
      const violations = report.pluginReports.flatMap((r) => r.violations ?? []);
      assert.deepEqual(violations, []);
    } finally {
      process.env.CDK_VALIDATION = 'false';
    }
  });
});

describe('infra/bin/app.ts reads its options from context', () => {
  let outdir = '';
  before(() => {
    outdir = tempDir('cdk-app-');
  });

  /** Runs the app as `cdk synth` would (CDK_CONTEXT_JSON); the template, or the error text. */
  async function synthApp(context: Record<string, unknown>, dir: string): Promise<{ template?: Template; manifest?: unknown; stderr: string }> {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bin/app.ts'],
        {
          cwd: join(root, 'infra'),
          env: { ...process.env, CDK_OUTDIR: dir, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_VALIDATION: 'false' },
          timeout: 120_000,
        },
        (err, _stdout, stderrText) => resolve({ code: err ? 1 : 0, stderr: String(stderrText) }),
      );
    });
    if (code !== 0) return { stderr };
    const template = Template.fromJSON(JSON.parse(readFileSync(join(dir, 'ConflictUpdater.template.json'), 'utf8')) as Record<string, unknown>);
    return { template, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), stderr };
  }

  it('a new account: everything created, schedule in a time zone, variables for every run, failure detection', async () => {
    const r = await synthApp(
      {
        account: '123456789012',
        region: 'eu-west-1',
        environment: 'prod',
        memory: '4096',
        scheduleExpression: 'cron(0 6 * * ? *)',
        scheduleTimezone: 'Europe/Berlin',
        scheduleSubnetIds: 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
        scheduleSecurityGroupIds: 'sg-0cccccccccccccccc',
        alarm: 'true',
        noSuccessHours: '30',
        maxRunMinutes: '45',
        'env:POSTGRES_SSLMODE': 'require',
        'env:EMAIL_SENDER': 'conflicts@example.com',
        'env:EMAIL_RECIPIENTS': 'ops@example.com',
      },
      join(outdir, 'new'),
    );
    assert.ok(r.template, r.stderr);
    const t = r.template;
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Memory: '4096',
      TaskRoleArn: Match.anyValue(),
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'NODE_OPTIONS', Value: '--max-old-space-size=512' },
            { Name: 'EMAIL_RECIPIENTS', Value: 'ops@example.com' },
            { Name: 'EMAIL_SENDER', Value: 'conflicts@example.com' },
            { Name: 'MAX_RUN_MINUTES', Value: '45' },
            { Name: 'POSTGRES_SSLMODE', Value: 'require' },
          ]),
        }),
      ],
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: Match.objectLike({ EcsParameters: Match.objectLike({ NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ Subnets: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'] }) } }) }),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RunFailed', Dimensions: [{ Name: 'Environment', Value: 'prod' }] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('no successful run in the last 30 hours') });
    t.resourceCountIs('AWS::Events::Rule', 1);
    for (const type of ['AWS::ECR::Repository', 'AWS::Logs::LogGroup', 'AWS::ECS::Cluster']) t.resourceCountIs(type, 1);
    t.resourceCountIs('AWS::SecretsManager::Secret', 2);
    const manifest = r.manifest as { artifacts: Record<string, { environment?: string }> };
    assert.equal(manifest.artifacts.ConflictUpdater?.environment, 'aws://123456789012/eu-west-1');
  });

  it('adoptExisting=true: the repository, both secrets, the log group and the cluster are adopted, not created', async () => {
    const sfArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:task02/snowflake-AbCdEf';
    const r = await synthApp(
      { account: '123456789012', region: 'us-east-1', adoptExisting: 'true', snowflakeSecretArn: sfArn, subnetIds: 'subnet-0aaaaaaaaaaaaaaaa', vpcId: 'vpc-0123456789abcdef0' },
      join(outdir, 'adopt'),
    );
    assert.ok(r.template, r.stderr);
    const t = r.template;
    for (const type of ['AWS::ECR::Repository', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret', 'AWS::ECS::Cluster']) t.resourceCountIs(type, 0);
    const pgPolicy = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:task02/postgres-??????']] };
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [{ PolicyName: 'ReadJobSecrets', PolicyDocument: { Statement: [{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: [sfArn, pgPolicy] }] } }],
    });
    // Only a VPC given: the task's security group is the one thing of the network the stack creates.
    t.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    t.resourceCountIs('AWS::EC2::VPC', 0);
  });

  const badContext: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown job variable', { 'env:LOOKBACK_HOUR': '48' }, /LOOKBACK_HOUR is not a variable of the job/],
    ['a bad maxRunMinutes', { maxRunMinutes: 'soon' }, /context maxRunMinutes must be a whole number, got "soon"/],
    ['a time zone that is not IANA', { scheduleExpression: 'cron(0 6 * * ? *)', scheduleTimezone: 'EST5', subnetIds: 'subnet-0a', securityGroupIds: 'sg-0c' }, /time zone must be an IANA name/],
    ['a partial secret ARN', { snowflakeSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:task02/snowflake' }, /complete ARN/],
    ['jobEnvironment that is not JSON', { jobEnvironment: 'POSTGRES_SSLMODE=require' }, /context jobEnvironment must be a JSON object/],
  ];
  for (const [name, context, message] of badContext) {
    it(`refuses ${name}, naming it`, async () => {
      const r = await synthApp(context, join(outdir, name.replace(/\W+/g, '-')));
      assert.equal(r.template, undefined);
      assert.match(r.stderr, message);
    });
  }
});

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

const SCHEDULE = {
  expression: 'cron(0 6 * * ? *)',
  subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
  securityGroupIds: ['sg-0cccccccccccccccc'],
};

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

  it('cluster conflict-batch-1 without a VPC of its own', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'conflict-batch-1' });
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

  it('no schedule and no alarm by default', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
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
          Environment: Match.arrayWith([{ Name: 'ENVIRONMENT', Value: 'prod' }, { Name: 'LOG_LEVEL', Value: 'DEBUG' }]),
          LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-stream-prefix': 'prod' }) }),
          StopTimeout: 30,
        }),
      ],
    });
  });
});

describe('optional schedule (EventBridge)', () => {
  it('runs the task definition on the cluster with the given network, and may override ACTION', () => {
    const { template, resources } = synth({ schedule: { ...SCHEDULE, action: 'test_connections' } });
    const cluster = logicalId(resources, 'AWS::ECS::Cluster');
    const td = logicalId(resources, 'AWS::ECS::TaskDefinition');
    const execRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('ecs-tasks.amazonaws.com'));
    const ruleRole = logicalId(resources, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('events.amazonaws.com'));
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [cluster, 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [ruleRole, 'Arn'] },
          EcsParameters: {
            TaskDefinitionArn: { Ref: td },
            TaskCount: 1,
            LaunchType: 'FARGATE',
            PlatformVersion: 'LATEST',
            NetworkConfiguration: {
              AwsVpcConfiguration: { Subnets: SCHEDULE.subnetIds, SecurityGroups: SCHEDULE.securityGroupIds, AssignPublicIp: 'DISABLED' },
            },
          },
          Input: JSON.stringify({ containerOverrides: [{ name: 'task02-conflict-updater', environment: [{ name: 'ACTION', value: 'test_connections' }] }] }),
        }),
      ],
    });
    // The rule may start this task definition on this cluster and pass the execution role to ECS: nothing else.
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: ruleRole }],
      PolicyDocument: {
        Statement: [
          { Action: 'ecs:RunTask', Effect: 'Allow', Resource: { Ref: td }, Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [cluster, 'Arn'] } } } },
          {
            Action: 'iam:PassRole',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [execRole, 'Arn'] },
            Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          },
        ],
      },
    });
    // The secret permission is still exactly one statement on the execution role.
    assert.equal(JSON.stringify(template.toJSON()).match(/secretsmanager:/g)?.length, 1);
  });

  it('without an action the task definition decides ACTION; public IP on request', () => {
    const { template } = synth({ schedule: { ...SCHEDULE, assignPublicIp: true, enabled: false } });
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'DISABLED',
      Targets: [
        Match.objectLike({
          Input: Match.absent(),
          EcsParameters: Match.objectLike({ NetworkConfiguration: { AwsVpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) } }),
        }),
      ],
    });
  });

  it('refuses a schedule without subnets or security groups, or with a malformed expression', () => {
    assert.throws(() => synth({ schedule: { ...SCHEDULE, subnetIds: [] } }), /subnetIds and securityGroupIds/);
    assert.throws(() => synth({ schedule: { ...SCHEDULE, securityGroupIds: [] } }), /subnetIds and securityGroupIds/);
    assert.throws(() => synth({ schedule: { ...SCHEDULE, expression: '0 6 * * *' } }), /cron\(…\) or rate\(…\)/);
  });
});

describe('optional alarm on failed runs', () => {
  it('default: the job metric ConflictUpdater/RunFailed of this Environment, to an SNS topic', () => {
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
      new ConflictUpdaterStack(app, 'ConflictUpdater', { env: ENV, schedule: { ...SCHEDULE, action: 'validate_config' }, alarm: { source: 'logs', email: 'ops@example.com' } });
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

  it('synthesizes offline with --context values as cdk would pass them', async () => {
    const context = {
      account: '123456789012',
      region: 'eu-west-1',
      environment: 'prod',
      memory: '4096',
      scheduleExpression: 'rate(12 hours)',
      scheduleSubnetIds: 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
      scheduleSecurityGroupIds: 'sg-0cccccccccccccccc',
      alarm: 'true',
    };
    const code = await new Promise<number>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bin/app.ts'],
        {
          cwd: join(root, 'infra'),
          env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_VALIDATION: 'false' },
          timeout: 120_000,
        },
        (err, _stdout, stderr) => {
          if (err) process.stderr.write(stderr);
          resolve(err ? 1 : 0);
        },
      );
    });
    assert.equal(code, 0);
    const t = Template.fromJSON(JSON.parse(readFileSync(join(outdir, 'ConflictUpdater.template.json'), 'utf8')) as Record<string, unknown>);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { Memory: '4096' });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(12 hours)',
      Targets: [Match.objectLike({ EcsParameters: Match.objectLike({ NetworkConfiguration: { AwsVpcConfiguration: Match.objectLike({ Subnets: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'] }) } }) })],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RunFailed', Dimensions: [{ Name: 'Environment', Value: 'prod' }] });
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { environment?: string }> };
    assert.equal(manifest.artifacts.ConflictUpdater?.environment, 'aws://123456789012/eu-west-1');
  });
});

// The reference deployment of operations.md ("Container and AWS") in one stack: ECR repository,
// log group, the two secrets (created empty, the operator sets the values), the execution role,
// the cluster and the Fargate task definition, plus an optional EventBridge schedule and an
// optional alarm on failed runs.
//
// The task definition is deploy/ecs-task-definition.json filled with references to the resources
// of this stack, the same template the deploy tool registers and the console guide pastes, so the
// three paths cannot drift apart. No lookups: `cdk synth` works offline and without an account.
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { REFERENCE, SECRET_WIRING } from '../../src/deploy/settings.js';
import { readTemplate, renderTemplate } from '../../src/deploy/template.js';

export const TEMPLATE_FILE = fileURLToPath(new URL('../../deploy/ecs-task-definition.json', import.meta.url));

/** The job's CloudWatch EMF metrics (src/report/metrics.ts): namespace, failed-run metric. */
export const METRIC_NAMESPACE = 'ConflictUpdater';
export const RUN_FAILED_METRIC = 'RunFailed';

export interface ScheduleOptions {
  /** EventBridge schedule expression, in UTC: `cron(0 6 * * ? *)` or `rate(12 hours)`. */
  expression: string;
  /** Subnets that reach Snowflake (HTTPS 443) and PostgreSQL (5432). */
  subnetIds: string[];
  securityGroupIds: string[];
  /** ENABLED in public subnets without a NAT gateway (default false: DISABLED). */
  assignPublicIp?: boolean;
  /** ACTION of the scheduled runs; default: the task definition's (task02_00_run_conflict_update). */
  action?: string;
  /** Create the rule disabled (default true: enabled). */
  enabled?: boolean;
}

export interface AlarmOptions {
  /**
   * `emf` (default): the job's metric ConflictUpdater/RunFailed for this Environment (1 when a
   * run failed or was stopped). `logs`: a metric filter on the log group matching "Status: failed".
   */
  source?: 'emf' | 'logs';
  /** Subscribe this address to the alarm topic (it must confirm the subscription). */
  email?: string;
}

export interface ConflictUpdaterStackProps extends StackProps {
  repositoryName?: string;
  clusterName?: string;
  family?: string;
  containerName?: string;
  logGroupName?: string;
  logStreamPrefix?: string;
  snowflakeSecretName?: string;
  postgresSecretName?: string;
  /** Tag of the image the task definition runs (default latest). */
  imageTag?: string;
  /** CPU units and MiB (default 1024 and 2048). */
  cpu?: number;
  memoryMiB?: number;
  /** ENVIRONMENT of the job (default dev): names the schema and the metric dimension. */
  environment?: string;
  logLevel?: string;
  /** Off unless given. */
  schedule?: ScheduleOptions;
  /** Off unless given. */
  alarm?: AlarmOptions;
}

export class ConflictUpdaterStack extends Stack {
  readonly repository: ecr.Repository;
  readonly logGroup: logs.LogGroup;
  readonly snowflakeSecret: secretsmanager.CfnSecret;
  readonly postgresSecret: secretsmanager.CfnSecret;
  readonly executionRole: iam.Role;
  readonly cluster: ecs.CfnCluster;
  readonly taskDefinition: ecs.CfnTaskDefinition;
  readonly schedule?: events.CfnRule;
  readonly alarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ConflictUpdaterStackProps = {}) {
    super(scope, id, props);
    const names = {
      repository: props.repositoryName ?? REFERENCE.repository,
      cluster: props.clusterName ?? REFERENCE.cluster,
      family: props.family ?? REFERENCE.family,
      container: props.containerName ?? REFERENCE.container,
      logGroup: props.logGroupName ?? REFERENCE.logGroup,
      logStreamPrefix: props.logStreamPrefix ?? REFERENCE.logStreamPrefix,
      snowflakeSecret: props.snowflakeSecretName ?? REFERENCE.snowflakeSecret,
      postgresSecret: props.postgresSecretName ?? REFERENCE.postgresSecret,
    };
    const environment = props.environment ?? REFERENCE.environment;
    if (props.schedule) {
      const s = props.schedule;
      if (!s.expression || !/^(cron|rate)\(.+\)$/.test(s.expression)) throw new Error(`schedule.expression must be cron(…) or rate(…), got "${s.expression}"`);
      if (!s.subnetIds?.length || !s.securityGroupIds?.length) throw new Error('schedule needs subnetIds and securityGroupIds (the VPC the task runs in)');
    }
    Tags.of(this).add('application', 'conflict-updater');

    // Registry: mutable tags (latest moves), scanned on push; old timestamp tags expire.
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: names.repository,
      imageTagMutability: ecr.TagMutability.MUTABLE,
      imageScanOnPush: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ description: 'keep the 30 most recent images', maxImageCount: 30 }],
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: names.logGroup,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Empty secrets (no SecretString, no generated value): the operator puts the JSON in.
    const secret = (cid: string, name: string, kind: 'snowflake' | 'postgres') => {
      const keys = SECRET_WIRING.filter((w) => w.secret === kind).map((w) => w.key);
      const s = new secretsmanager.CfnSecret(this, cid, {
        name,
        description: `conflict-updater ${kind} login: a JSON object with the keys ${keys.join(', ')} (set by the operator)`,
      });
      s.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return s;
    };
    this.snowflakeSecret = secret('SnowflakeSecret', names.snowflakeSecret, 'snowflake');
    this.postgresSecret = secret('PostgresSecret', names.postgresSecret, 'postgres');

    // Pull the image, write logs (the managed policy), read exactly the two secrets.
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'ECS task execution role of conflict-updater: image pull, logs, the two job secrets',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonECSTaskExecutionRolePolicy')],
      inlinePolicies: {
        ReadJobSecrets: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['secretsmanager:GetSecretValue'],
              resources: [this.snowflakeSecret.ref, this.postgresSecret.ref],
            }),
          ],
        }),
      },
    });

    // L1: an L2 Cluster would create a VPC; this job brings its own subnets.
    this.cluster = new ecs.CfnCluster(this, 'Cluster', { clusterName: names.cluster });

    const { value, missing } = renderTemplate(readTemplate(TEMPLATE_FILE), {
      TASK_FAMILY: names.family,
      TASK_CPU: String(props.cpu ?? REFERENCE.cpu),
      TASK_MEMORY: String(props.memoryMiB ?? REFERENCE.memory),
      EXECUTION_ROLE_ARN: this.executionRole.roleArn,
      CONTAINER_NAME: names.container,
      AWS_ACCOUNT_ID: Aws.ACCOUNT_ID,
      AWS_REGION: Aws.REGION,
      ECR_REPOSITORY: this.repository.repositoryName,
      IMAGE_TAG: props.imageTag ?? REFERENCE.imageTag,
      ENVIRONMENT: environment,
      LOG_LEVEL: props.logLevel ?? REFERENCE.logLevel,
      SNOWFLAKE_SECRET_ARN: this.snowflakeSecret.ref,
      POSTGRES_SECRET_ARN: this.postgresSecret.ref,
      LOG_GROUP: this.logGroup.logGroupName,
      LOG_STREAM_PREFIX: names.logStreamPrefix,
    });
    if (missing.length) throw new Error(`${TEMPLATE_FILE}: no value for ${missing.join(', ')}`);
    // The template's keys are the ECS API's, which are the L1 property names.
    this.taskDefinition = new ecs.CfnTaskDefinition(this, 'TaskDefinition', value as ecs.CfnTaskDefinitionProps);

    if (props.schedule) this.schedule = this.addSchedule(props.schedule, names.container);
    if (props.alarm) this.alarm = this.addAlarm(props.alarm, environment);

    const out = (oid: string, v: string, description: string) => new CfnOutput(this, oid, { value: v, description });
    out('RepositoryUri', this.repository.repositoryUri, 'docker push target (deploy/.env ECR_REPOSITORY is its last part)');
    out('ClusterName', this.cluster.ref, 'deploy/.env ECS_CLUSTER');
    out('TaskDefinitionArn', this.taskDefinition.ref, 'the revision this stack registered');
    out('ExecutionRoleArn', this.executionRole.roleArn, 'deploy/.env EXECUTION_ROLE_ARN');
    out('SnowflakeSecretArn', this.snowflakeSecret.ref, 'deploy/.env SNOWFLAKE_SECRET_ARN; set its keys account, user, warehouse, private_key');
    out('PostgresSecretArn', this.postgresSecret.ref, 'deploy/.env POSTGRES_SECRET_ARN; set its keys host, user, password');
    out('LogGroupName', this.logGroup.logGroupName, 'deploy/.env LOG_GROUP');
  }

  private addSchedule(s: ScheduleOptions, container: string): events.CfnRule {
    const role = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'EventBridge rule of conflict-updater: runs the task on the schedule',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [this.taskDefinition.ref],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.attrArn } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn],
        conditions: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    return new events.CfnRule(this, 'Schedule', {
      description: `Runs the conflict updater on ${s.expression} (UTC)`,
      scheduleExpression: s.expression,
      state: s.enabled === false ? 'DISABLED' : 'ENABLED',
      targets: [
        {
          id: 'conflict-updater',
          arn: this.cluster.attrArn,
          roleArn: role.roleArn,
          ecsParameters: {
            taskDefinitionArn: this.taskDefinition.ref,
            taskCount: 1,
            launchType: 'FARGATE',
            platformVersion: 'LATEST',
            networkConfiguration: {
              awsVpcConfiguration: {
                subnets: s.subnetIds,
                securityGroups: s.securityGroupIds,
                assignPublicIp: s.assignPublicIp ? 'ENABLED' : 'DISABLED',
              },
            },
          },
          // For ECS targets the input is the task's overrides.
          input: s.action
            ? JSON.stringify({ containerOverrides: [{ name: container, environment: [{ name: 'ACTION', value: s.action }] }] })
            : undefined,
          // A missed run is better than a pile-up: retry delivery for an hour at most.
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        },
      ],
    });
  }

  private addAlarm(a: AlarmOptions, environment: string): cloudwatch.Alarm {
    let metric: cloudwatch.Metric;
    if ((a.source ?? 'emf') === 'logs') {
      const filter = new logs.MetricFilter(this, 'FailedRunFilter', {
        logGroup: this.logGroup,
        filterPattern: logs.FilterPattern.literal('"Status: failed"'),
        metricNamespace: METRIC_NAMESPACE,
        metricName: `StatusFailedLines-${environment}`,
        metricValue: '1',
      });
      metric = filter.metric({ statistic: 'Sum', period: Duration.minutes(5) });
    } else {
      metric = new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: RUN_FAILED_METRIC,
        dimensionsMap: { Environment: environment },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      });
    }
    const alarm = new cloudwatch.Alarm(this, 'RunFailedAlarm', {
      alarmDescription: `conflict-updater (${environment}): a run failed or was stopped; the log group ${this.logGroup.logGroupName} has the details`,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: `conflict-updater ${environment} failed runs` });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    if (a.email) topic.addSubscription(new snsSubscriptions.EmailSubscription(a.email));
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn, description: 'subscribe to hear about failed runs' });
    return alarm;
  }
}

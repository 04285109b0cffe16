// The reference deployment of operations.md ("Container and AWS") in one stack: ECR repository,
// log group, the two secrets (created empty, the operator sets the values), the execution role,
// the cluster and the Fargate task definition, plus an optional EventBridge Scheduler schedule
// and optional failure detection (alarms and an ECS task state rule, all to one SNS topic).
//
// Existing accounts: each shared resource (repository, secrets, log group, cluster, VPC, subnets,
// security groups) is adopted by name or ARN instead of created (`existing`), and everything the
// stack does create that other things may depend on is retained on `cdk destroy`.
//
// The task definition is deploy/ecs-task-definition.json filled with references to the resources
// of this stack, the same template the deploy tool registers and the console guide pastes, so the
// three paths cannot drift apart. No lookups: `cdk synth` works offline and without an account.
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags, TimeZone, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { ScheduleTargetBase, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE as JOB_METRIC_NAMESPACE } from '../../src/report/metrics.js';
import { nodeOptionsFor } from '../../src/deploy/heap.js';
import { checkJobEnvironment, sendsEmail } from '../../src/deploy/jobEnv.js';
import { REFERENCE, SECRET_WIRING } from '../../src/deploy/settings.js';
import { completeTaskDefinition, readTemplate, renderTemplate } from '../../src/deploy/template.js';

export const TEMPLATE_FILE = fileURLToPath(new URL('../../deploy/ecs-task-definition.json', import.meta.url));

/** The job's CloudWatch EMF metrics (src/report/metrics.ts): namespace and the per-run metrics. */
export const METRIC_NAMESPACE = JOB_METRIC_NAMESPACE;
export const RUN_FAILED_METRIC = 'RunFailed';
export const RUN_SKIPPED_METRIC = 'RunSkipped';

/** Resources of the account to use instead of creating them. Names or ARNs, no lookups. */
export interface ExistingResources {
  /** Adopt the ECR repository of `repositoryName` (default conflict-snowflake). */
  repository?: boolean;
  /** Adopt the log group of `logGroupName` (its retention stays as it is). */
  logGroup?: boolean;
  /** Adopt the cluster of `clusterName`. */
  cluster?: boolean;
  /**
   * Adopt the two secrets: a complete ARN (with the 6-character suffix), or `true` for the name
   * of `snowflakeSecretName` / `postgresSecretName`. By name the ARN is partial, so the
   * permission names `<name>-??????` (the suffix Secrets Manager adds), still exactly that secret.
   */
  snowflakeSecret?: string | true;
  postgresSecret?: string | true;
}

/** Where the task runs: adopted VPC, subnets and security groups; a security group is created when none is given. */
export interface NetworkOptions {
  /** Needed to create a security group (no securityGroupIds). */
  vpcId?: string;
  /** Subnets that reach Snowflake (HTTPS 443) and PostgreSQL (5432). */
  subnetIds: string[];
  securityGroupIds?: string[];
  /** ENABLED in public subnets without a NAT gateway (default false: DISABLED). */
  assignPublicIp?: boolean;
}

export interface ScheduleOptions {
  /** EventBridge Scheduler expression: `cron(0 6 * * ? *)` or `rate(12 hours)`. */
  expression: string;
  /** IANA time zone of a cron expression (default UTC): runs stay at the local hour across daylight saving. */
  timeZone?: string;
  /** ACTION of the scheduled runs; default: the task definition's (task02_00_run_conflict_update). */
  action?: string;
  /** Create the schedule disabled (default true: enabled). */
  enabled?: boolean;
  /** Delivery attempts after the first failed one (default 3), within `maxEventAgeMinutes` (default 60). */
  retryAttempts?: number;
  maxEventAgeMinutes?: number;
}

export interface AlarmOptions {
  /**
   * `emf` (default): the job's metric ConflictUpdater/RunFailed for this Environment (1 when a
   * run failed or was stopped). `logs`: a metric filter on the log group matching "Status: failed".
   */
  source?: 'emf' | 'logs';
  /** Subscribe this address to the alarm topic (it must confirm the subscription). */
  email?: string;
  /** Alarm when no run succeeded for this many hours (1 to 168; default 26: a daily run and some slack). */
  noSuccessHours?: number;
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
  /** Adopt instead of create (existing accounts). Default: create everything. */
  existing?: ExistingResources;
  /** Tag of the image the task definition runs (default latest). */
  imageTag?: string;
  /** CPU units and MiB (default 1024 and 2048). The heap cap NODE_OPTIONS follows the memory. */
  cpu?: number;
  memoryMiB?: number;
  /** ENVIRONMENT of the job (default dev): names the schema and the metric dimension. */
  environment?: string;
  logLevel?: string;
  /**
   * Variables of the job for every run (operations.md, "Configuration"), checked as the job
   * checks them. EMAIL_SENDER gives the task a role allowed ses:SendEmail for that sender only.
   */
  jobEnvironment?: Record<string, string>;
  /** The SES identity the sender belongs to (default: EMAIL_SENDER itself; may be its domain). */
  emailIdentity?: string;
  /** The task's network: needed by the schedule. */
  network?: NetworkOptions;
  /** Off unless given. */
  schedule?: ScheduleOptions;
  /** Failure detection, off unless given: run metric, ECS task state changes, no success for hours, schedule drops. */
  alarm?: AlarmOptions;
}

/** A secret as the task definition and the policy name it. */
interface SecretRef {
  /** What ECS `valueFrom` starts with. */
  arn: string;
  /** What the IAM policy names: the complete ARN, or the partial one with `-??????`. */
  policyArn: string;
}

export class ConflictUpdaterStack extends Stack {
  readonly repository: ecr.IRepository;
  readonly logGroup: logs.ILogGroup;
  readonly snowflakeSecret: SecretRef;
  readonly postgresSecret: SecretRef;
  readonly executionRole: iam.Role;
  readonly taskRole?: iam.Role;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly taskDefinition: ecs.CfnTaskDefinition;
  readonly securityGroupIds: string[] = [];
  readonly schedule?: scheduler.Schedule;
  readonly alarmTopic?: sns.Topic;
  /** Set while the optional parts are added. */
  deadLetterQueue?: sqs.Queue;
  alarm?: cloudwatch.Alarm;

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
    const existing = props.existing ?? {};
    const environment = props.environment ?? REFERENCE.environment;
    const logLevel = props.logLevel ?? REFERENCE.logLevel;
    const memory = props.memoryMiB ?? Number(REFERENCE.memory);
    const jobEnvironment = props.jobEnvironment ?? {};
    checkOptions(props);
    try {
      checkJobEnvironment(jobEnvironment, 'jobEnvironment', { ENVIRONMENT: environment, LOG_LEVEL: logLevel });
    } catch (err) {
      throw new Error((err as Error).message);
    }
    Tags.of(this).add('application', 'conflict-updater');

    // Registry: mutable tags (latest moves), scanned on push; old timestamp tags expire.
    this.repository = existing.repository
      ? ecr.Repository.fromRepositoryName(this, 'Repository', names.repository)
      : new ecr.Repository(this, 'Repository', {
          repositoryName: names.repository,
          imageTagMutability: ecr.TagMutability.MUTABLE,
          imageScanOnPush: true,
          removalPolicy: RemovalPolicy.RETAIN,
          lifecycleRules: [{ description: 'keep the 30 most recent images', maxImageCount: 30 }],
        });

    this.logGroup = existing.logGroup
      ? logs.LogGroup.fromLogGroupName(this, 'LogGroup', names.logGroup)
      : new logs.LogGroup(this, 'LogGroup', {
          logGroupName: names.logGroup,
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.RETAIN,
        });

    this.snowflakeSecret = this.secret('SnowflakeSecret', names.snowflakeSecret, 'snowflake', existing.snowflakeSecret);
    this.postgresSecret = this.secret('PostgresSecret', names.postgresSecret, 'postgres', existing.postgresSecret);

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
              resources: [this.snowflakeSecret.policyArn, this.postgresSecret.policyArn],
            }),
          ],
        }),
      },
    });

    // The status email (operations.md, "Email and extra settings on ECS"): a task role that may
    // send as the configured sender through its SES identity, nothing else.
    const sender = jobEnvironment.EMAIL_SENDER?.trim();
    if (sendsEmail(jobEnvironment) || props.emailIdentity) {
      const identity = props.emailIdentity ?? (sender as string);
      this.taskRole = new iam.Role(this, 'TaskRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `Task role of conflict-updater: the status email through SES identity ${identity}`,
        inlinePolicies: {
          SendStatusEmail: new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                actions: ['ses:SendEmail'],
                resources: [this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })],
                conditions: sender ? { StringEquals: { 'ses:FromAddress': sender } } : undefined,
              }),
            ],
          }),
        },
      });
    }

    // Created: L1, since an L2 Cluster would create a VPC and this job brings its own subnets.
    // Either way the cluster is shared with other jobs: never deleted with the stack.
    if (existing.cluster) {
      const arn = this.formatArn({ service: 'ecs', resource: 'cluster', resourceName: names.cluster });
      const cluster = ecs.Cluster.fromClusterArn(this, 'Cluster', arn);
      this.clusterName = names.cluster;
      this.clusterArn = cluster.clusterArn;
    } else {
      const cluster = new ecs.CfnCluster(this, 'Cluster', { clusterName: names.cluster });
      cluster.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.clusterName = cluster.ref;
      this.clusterArn = cluster.attrArn;
    }

    const { value, missing } = renderTemplate(readTemplate(TEMPLATE_FILE), {
      TASK_FAMILY: names.family,
      TASK_CPU: String(props.cpu ?? REFERENCE.cpu),
      TASK_MEMORY: String(memory),
      EXECUTION_ROLE_ARN: this.executionRole.roleArn,
      CONTAINER_NAME: names.container,
      AWS_ACCOUNT_ID: Aws.ACCOUNT_ID,
      AWS_REGION: Aws.REGION,
      ECR_REPOSITORY: this.repository.repositoryName,
      IMAGE_TAG: props.imageTag ?? REFERENCE.imageTag,
      ENVIRONMENT: environment,
      LOG_LEVEL: logLevel,
      NODE_OPTIONS: nodeOptionsFor(memory),
      SNOWFLAKE_SECRET_ARN: this.snowflakeSecret.arn,
      POSTGRES_SECRET_ARN: this.postgresSecret.arn,
      LOG_GROUP: this.logGroup.logGroupName,
      LOG_STREAM_PREFIX: names.logStreamPrefix,
    });
    if (missing.length) throw new Error(`${TEMPLATE_FILE}: no value for ${missing.join(', ')}`);
    const td = completeTaskDefinition(value, { environment: jobEnvironment, taskRoleArn: this.taskRole?.roleArn });
    // The template's keys are the ECS API's, which are the L1 property names.
    this.taskDefinition = new ecs.CfnTaskDefinition(this, 'TaskDefinition', td as ecs.CfnTaskDefinitionProps);

    if (props.network) this.securityGroupIds = this.networkSecurityGroups(props.network);
    if (props.alarm) this.alarmTopic = this.addFailureDetection(props.alarm, environment, names.family);
    if (props.schedule) this.schedule = this.addSchedule(props.schedule, props.network as NetworkOptions, names.container);

    const out = (oid: string, v: string, description: string) => new CfnOutput(this, oid, { value: v, description });
    out('RepositoryUri', this.repository.repositoryUri, 'docker push target (deploy/.env ECR_REPOSITORY is its last part)');
    out('ClusterName', this.clusterName, 'deploy/.env ECS_CLUSTER');
    out('TaskDefinitionArn', this.taskDefinition.ref, 'the revision this stack registered');
    out('ExecutionRoleArn', this.executionRole.roleArn, 'deploy/.env EXECUTION_ROLE_ARN');
    if (this.taskRole) out('TaskRoleArn', this.taskRole.roleArn, 'deploy/.env TASK_ROLE_ARN (the status email)');
    out('SnowflakeSecretArn', this.snowflakeSecret.arn, 'deploy/.env SNOWFLAKE_SECRET_ARN; set its keys account, user, warehouse, private_key');
    out('PostgresSecretArn', this.postgresSecret.arn, 'deploy/.env POSTGRES_SECRET_ARN; set its keys host, user, password');
    out('LogGroupName', this.logGroup.logGroupName, 'deploy/.env LOG_GROUP');
    if (this.securityGroupIds.length) out('SecurityGroupIds', this.securityGroupIds.join(','), 'deploy/.env SECURITY_GROUPS');
  }

  /** Created empty (the operator puts the JSON in), or adopted by complete ARN or by name. */
  private secret(cid: string, name: string, kind: 'snowflake' | 'postgres', adopt: string | true | undefined): SecretRef {
    if (adopt === undefined) {
      const keys = SECRET_WIRING.filter((w) => w.secret === kind).map((w) => w.key);
      // L1: the L2 Secret always generates a value, and this logical id is the one stacks deployed
      // before adoption existed already hold (a new id would replace the secret).
      const s = new secretsmanager.CfnSecret(this, cid, {
        name,
        description: `conflict-updater ${kind} login: a JSON object with the keys ${keys.join(', ')} (set by the operator)`,
      });
      s.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return { arn: s.ref, policyArn: s.ref };
    }
    const imported =
      adopt === true
        ? secretsmanager.Secret.fromSecretNameV2(this, cid, name)
        : secretsmanager.Secret.fromSecretCompleteArn(this, cid, adopt);
    // By name only the partial ARN is known; IAM matches the random suffix Secrets Manager adds.
    return { arn: imported.secretArn, policyArn: imported.secretFullArn ?? `${imported.secretArn}-??????` };
  }

  /** The given security groups, or one created in the VPC with the job's two ways out. */
  private networkSecurityGroups(n: NetworkOptions): string[] {
    const given = (n.securityGroupIds ?? []).map((sgId, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sgId, { mutable: false }));
    if (given.length) return given.map((g) => g.securityGroupId);
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: n.vpcId as string, availabilityZones: this.availabilityZones });
    const sg = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: 'conflict-updater task: out to Snowflake (443) and PostgreSQL (5432) only',
      allowAllOutbound: false,
    });
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Snowflake, ECR, Secrets Manager, CloudWatch, SES over HTTPS');
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(5432), 'PostgreSQL');
    return [sg.securityGroupId];
  }

  private addSchedule(s: ScheduleOptions, n: NetworkOptions, container: string): scheduler.Schedule {
    // Deliveries that fail after the retries land here, and the alarm topic hears of them.
    const dlq = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.deadLetterQueue = dlq;
    const target = new RunTaskFromTemplate(
      {
        clusterArn: this.clusterArn,
        taskDefinitionArn: this.taskDefinition.ref,
        passRoles: [this.executionRole.roleArn, ...(this.taskRole ? [this.taskRole.roleArn] : [])],
        subnets: n.subnetIds,
        securityGroups: this.securityGroupIds,
        assignPublicIp: n.assignPublicIp === true,
      },
      {
        // For ECS targets the input is the task's overrides.
        input: s.action ? scheduler.ScheduleTargetInput.fromObject({ containerOverrides: [{ name: container, environment: [{ name: 'ACTION', value: s.action }] }] }) : undefined,
        // A missed run is better than a pile-up: retry delivery for an hour at most.
        retryAttempts: s.retryAttempts ?? 3,
        maxEventAge: Duration.minutes(s.maxEventAgeMinutes ?? 60),
        deadLetterQueue: dlq,
      },
    );
    const schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Runs the conflict updater on ${s.expression} (${s.timeZone ?? 'UTC'})`,
      schedule: scheduler.ScheduleExpression.expression(s.expression, s.timeZone ? TimeZone.of(s.timeZone) : undefined),
      target,
      enabled: s.enabled !== false,
    });
    if (this.alarmTopic) {
      const dropped = new cloudwatch.Alarm(this, 'ScheduleDeadLetterAlarm', {
        alarmDescription: 'conflict-updater: the schedule could not start a run (a message is in its dead-letter queue)',
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      dropped.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
    }
    return schedule;
  }

  /**
   * Every way a run can fail, to one SNS topic: the run reports failure (its metric), the task
   * stops with a non-zero exit code or never starts (ECS task state changes), no run succeeds for
   * `noSuccessHours`, and (with a schedule) a delivery the scheduler gave up on.
   */
  private addFailureDetection(a: AlarmOptions, environment: string, family: string): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: `conflict-updater ${environment} failed runs` });
    if (a.email) topic.addSubscription(new snsSubscriptions.EmailSubscription(a.email));
    const action = new cloudwatchActions.SnsAction(topic);

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
      metric = this.jobMetric(RUN_FAILED_METRIC, environment, 'Maximum', Duration.minutes(5));
    }
    const failed = new cloudwatch.Alarm(this, 'RunFailedAlarm', {
      alarmDescription: `conflict-updater (${environment}): a run failed or was stopped; the log group ${this.logGroup.logGroupName} has the details`,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    failed.addAlarmAction(action);
    this.alarm = failed;

    // Runs that succeeded = runs reported (one RunFailed sample each) - failed - skipped. No
    // data at all (no run, or none that got to report) is breaching too.
    const hours = a.noSuccessHours ?? 26;
    const period = Duration.hours(hours);
    const succeeded = new cloudwatch.MathExpression({
      expression: 'FILL(runs, 0) - FILL(failed, 0) - FILL(skipped, 0)',
      usingMetrics: {
        runs: this.jobMetric(RUN_FAILED_METRIC, environment, 'SampleCount', period),
        failed: this.jobMetric(RUN_FAILED_METRIC, environment, 'Sum', period),
        skipped: this.jobMetric(RUN_SKIPPED_METRIC, environment, 'Sum', period),
      },
      period,
      label: 'successful runs',
    });
    const noSuccess = new cloudwatch.Alarm(this, 'NoSuccessfulRunAlarm', {
      alarmDescription: `conflict-updater (${environment}): no successful run in the last ${hours} hours`,
      metric: succeeded,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    noSuccess.addAlarmAction(action);

    // A task of this family on this cluster stopped with a non-zero exit code (1, 2, 3, 134, 137,
    // 143), or never started (image pull, secrets, log group): those report no metric.
    const rule = new events.Rule(this, 'TaskStoppedRule', {
      description: `conflict-updater: a ${family} task stopped with a non-zero exit code or failed to start`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [this.clusterArn],
          lastStatus: ['STOPPED'],
          taskDefinitionArn: [{ prefix: this.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${family}:` }) }],
          $or: [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }],
        },
      },
    });
    const f = (path: string) => events.EventField.fromPath(path);
    rule.addTarget(
      new eventsTargets.SnsTopic(topic, {
        message: events.RuleTargetInput.fromText(
          `conflict-updater (${environment}): task ${f('$.detail.taskArn')} stopped (${f('$.detail.stopCode')}): ` +
            `${f('$.detail.stoppedReason')}; exit code ${f('$.detail.containers[0].exitCode')} ${f('$.detail.containers[0].reason')}`,
        ),
      }),
    );
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn, description: 'subscribe to hear about failed runs' });
    return topic;
  }

  private jobMetric(name: string, environment: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, dimensionsMap: { Environment: environment }, statistic, period });
  }
}

/** Refuses options that cannot work, before anything is built. */
function checkOptions(props: ConflictUpdaterStackProps): void {
  const { schedule: s, network: n, alarm: a } = props;
  if (n) {
    if (!n.subnetIds?.length) throw new Error('network needs subnetIds (subnets that reach Snowflake on 443 and PostgreSQL on 5432)');
    if (!n.securityGroupIds?.length && !n.vpcId) throw new Error('network needs securityGroupIds, or vpcId to create a security group in');
  }
  if (s) {
    if (!s.expression || !/^(cron|rate|at)\(.+\)$/.test(s.expression)) throw new Error(`schedule.expression must be cron(…) or rate(…), got "${s.expression}"`);
    if (!n) throw new Error('schedule needs network subnetIds and securityGroupIds (the VPC the task runs in)');
    if (s.timeZone !== undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: s.timeZone });
      } catch {
        throw new Error(`schedule time zone must be an IANA name such as America/New_York, got "${s.timeZone}"`);
      }
    }
  }
  for (const [name, key] of [['ENVIRONMENT', 'environment'], ['LOG_LEVEL', 'logLevel']]) {
    // They name the metric dimension and the template's own values: one place to set them.
    if (props.jobEnvironment && name in props.jobEnvironment) throw new Error(`jobEnvironment: set ${name} with the context key ${key}, not as a variable`);
  }
  if (a?.noSuccessHours !== undefined && !(Number.isInteger(a.noSuccessHours) && a.noSuccessHours >= 1 && a.noSuccessHours <= 168)) {
    throw new Error(`alarm noSuccessHours must be a whole number from 1 to 168 (CloudWatch evaluates at most 7 days), got ${a.noSuccessHours}`);
  }
  for (const [key, arn] of [['snowflakeSecret', props.existing?.snowflakeSecret], ['postgresSecret', props.existing?.postgresSecret]] as const) {
    if (typeof arn === 'string' && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(arn)) {
      throw new Error(`existing ${key} must be the secret's complete ARN, ending in -<6 characters> (or adopt it by name), got "${arn}"`);
    }
  }
}

interface TemplatedTask {
  clusterArn: string;
  taskDefinitionArn: string;
  /** The roles ECS assumes for the task: the scheduler must be allowed to pass them. */
  passRoles: string[];
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

/**
 * EventBridge Scheduler's templated ECS RunTask target for a task definition given by ARN (the
 * L1 one of the template): aws-scheduler-targets' EcsRunFargateTask wants an L2 task definition.
 * The base class makes the scheduler's role, the retry policy and the dead-letter queue wiring.
 */
class RunTaskFromTemplate extends ScheduleTargetBase implements scheduler.IScheduleTarget {
  constructor(
    private readonly task: TemplatedTask,
    base: ScheduleTargetBaseProps,
  ) {
    super(base, task.clusterArn);
  }

  protected addTargetActionToRole(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [this.task.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': this.task.clusterArn } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: this.task.passRoles,
        conditions: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }

  protected override bindBaseTargetConfig(schedule: scheduler.ISchedule): scheduler.ScheduleTargetConfig {
    return {
      ...super.bindBaseTargetConfig(schedule),
      ecsParameters: {
        taskDefinitionArn: this.task.taskDefinitionArn,
        taskCount: 1,
        launchType: 'FARGATE',
        platformVersion: 'LATEST',
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: this.task.subnets,
            securityGroups: this.task.securityGroups,
            assignPublicIp: this.task.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
      },
    };
  }
}

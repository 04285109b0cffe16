// CDK app of the reference deployment (infra/lib/stack.ts). Every name and option is a context
// value, so one `cdk deploy` with --context flags (or a "context" block in cdk.json) fits any
// account; docs/deployment.md lists them.
//
//   cd infra
//   npx cdk synth --context account=123456789012 --context region=us-east-1
//   npx cdk deploy --context account=123456789012 --context region=us-east-1 \
//     --context alarm=true --context alarmEmail=ops@example.com
//
// Without account and region the stack is environment-agnostic. Nothing is looked up, so
// `cdk synth` works offline.
import { App } from 'aws-cdk-lib';
import { splitList } from '../../src/deploy/settings.js';
import { ConflictUpdaterStack, type ConflictUpdaterStackProps } from '../lib/stack.js';

const app = new App();

function str(key: string): string | undefined {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function num(key: string): number | undefined {
  const v = str(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`context ${key} must be a whole number, got "${v}"`);
  return n;
}

function bool(key: string): boolean | undefined {
  const v = str(key)?.toLowerCase();
  if (v === undefined) return undefined;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`context ${key} must be true or false, got "${v}"`);
}

function list(key: string): string[] {
  const v: unknown = app.node.tryGetContext(key);
  return Array.isArray(v) ? v.map(String) : splitList(v === undefined || v === null ? undefined : String(v));
}

const account = str('account');
const region = str('region');
const scheduleExpression = str('scheduleExpression');
const alarmSource = str('alarmSource');
if (alarmSource !== undefined && alarmSource !== 'emf' && alarmSource !== 'logs') {
  throw new Error(`context alarmSource must be emf or logs, got "${alarmSource}"`);
}

const props: ConflictUpdaterStackProps = {
  env: account || region ? { account, region } : undefined,
  description: 'conflict-updater: ECR repository, log group, secrets, execution role, ECS cluster and Fargate task definition',
  repositoryName: str('repositoryName'),
  clusterName: str('clusterName'),
  family: str('family'),
  containerName: str('containerName'),
  logGroupName: str('logGroupName'),
  logStreamPrefix: str('logStreamPrefix'),
  snowflakeSecretName: str('snowflakeSecretName'),
  postgresSecretName: str('postgresSecretName'),
  imageTag: str('imageTag'),
  cpu: num('cpu'),
  memoryMiB: num('memory'),
  environment: str('environment'),
  logLevel: str('logLevel'),
  schedule: scheduleExpression
    ? {
        expression: scheduleExpression,
        subnetIds: list('scheduleSubnetIds'),
        securityGroupIds: list('scheduleSecurityGroupIds'),
        assignPublicIp: bool('scheduleAssignPublicIp'),
        action: str('scheduleAction'),
      }
    : undefined,
  alarm: bool('alarm') ? { source: alarmSource, email: str('alarmEmail') } : undefined,
};

new ConflictUpdaterStack(app, str('stackName') ?? 'ConflictUpdater', props);

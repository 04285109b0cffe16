// CDK app of the reference deployment (infra/lib/stack.ts). Every name and option is a context
// value, so one `cdk deploy` with --context flags (or a "context" block in cdk.json) fits any
// account; docs/deployment.md lists them.
//
//   cd infra
//   npx cdk synth --context account=123456789012 --context region=us-east-1
//   npx cdk deploy --context account=123456789012 --context region=us-east-1 \
//     --context alarm=true --context alarmEmail=ops@example.com
//
// An account that already has the old job's resources: --context adoptExisting=true (and the
// secrets' ARNs, the network); variables of the job: --context env:NAME=VALUE.
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

/** A secret to adopt: its complete ARN, else (adoptExisting / adoptSecrets) its name. */
function secretToAdopt(arnKey: string, adoptByName: boolean): string | true | undefined {
  return str(arnKey) ?? (adoptByName ? true : undefined);
}

/**
 * Variables of the job for every run: `--context env:NAME=VALUE` (one per variable), or a
 * `jobEnvironment` object (cdk.json) or JSON text; `maxRunMinutes` is MAX_RUN_MINUTES.
 */
function jobEnvironment(): Record<string, string> {
  const vars: Record<string, string> = {};
  const raw: unknown = app.node.tryGetContext('jobEnvironment');
  if (raw !== undefined && raw !== null && raw !== '') {
    let obj: unknown = raw;
    if (typeof raw === 'string') {
      try {
        obj = JSON.parse(raw);
      } catch {
        throw new Error(`context jobEnvironment must be a JSON object such as {"POSTGRES_SSLMODE":"require"}, got "${raw}"`);
      }
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('context jobEnvironment must be an object of NAME: value');
    for (const [k, v] of Object.entries(obj)) vars[k] = String(v);
  }
  for (const [key, value] of Object.entries(app.node.getAllContext())) if (key.startsWith('env:')) vars[key.slice(4)] = String(value);
  const max = num('maxRunMinutes');
  if (max !== undefined) vars.MAX_RUN_MINUTES = String(max);
  return vars;
}

const account = str('account');
const region = str('region');
const scheduleExpression = str('scheduleExpression');
const alarmSource = str('alarmSource');
if (alarmSource !== undefined && alarmSource !== 'emf' && alarmSource !== 'logs') {
  throw new Error(`context alarmSource must be emf or logs, got "${alarmSource}"`);
}
const adoptAll = bool('adoptExisting') === true;
// The network: subnetIds / securityGroupIds (scheduleSubnetIds / scheduleSecurityGroupIds still work).
const subnetIds = list('subnetIds').length ? list('subnetIds') : list('scheduleSubnetIds');
const securityGroupIds = list('securityGroupIds').length ? list('securityGroupIds') : list('scheduleSecurityGroupIds');
const vpcId = str('vpcId');

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
  existing: {
    repository: adoptAll || bool('adoptRepository') === true,
    logGroup: adoptAll || bool('adoptLogGroup') === true,
    cluster: adoptAll || bool('adoptCluster') === true,
    snowflakeSecret: secretToAdopt('snowflakeSecretArn', adoptAll || bool('adoptSecrets') === true),
    postgresSecret: secretToAdopt('postgresSecretArn', adoptAll || bool('adoptSecrets') === true),
  },
  imageTag: str('imageTag'),
  cpu: num('cpu'),
  memoryMiB: num('memory'),
  environment: str('environment'),
  logLevel: str('logLevel'),
  jobEnvironment: jobEnvironment(),
  emailIdentity: str('emailIdentity'),
  network:
    subnetIds.length || securityGroupIds.length || vpcId
      ? { vpcId, subnetIds, securityGroupIds, assignPublicIp: bool('assignPublicIp') ?? bool('scheduleAssignPublicIp') }
      : undefined,
  schedule: scheduleExpression
    ? {
        expression: scheduleExpression,
        timeZone: str('scheduleTimezone'),
        action: str('scheduleAction'),
        enabled: bool('scheduleEnabled'),
      }
    : undefined,
  alarm: bool('alarm') ? { source: alarmSource, email: str('alarmEmail'), noSuccessHours: num('noSuccessHours') } : undefined,
};

new ConflictUpdaterStack(app, str('stackName') ?? 'ConflictUpdater', props);

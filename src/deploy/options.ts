// Command line of `conflict-updater deploy`.
import { ConfigError } from '../errors.js';
import { parseAssignment } from './jobEnv.js';
import type { StepId } from './settings.js';

export interface DeployOptions {
  yes: boolean;
  dryRun: boolean;
  wait: boolean;
  help: boolean;
  /** --action: the actions of step 5, comma-separated, not yet checked. */
  action?: string;
  /** --env NAME=VALUE (repeatable): variables of the job for the run of step 5, not yet checked. */
  env: Record<string, string>;
  profile?: string;
  region?: string;
  envFile?: string;
  skip: Set<StepId>;
}

export const USAGE = `usage: conflict-updater deploy [options]

Five steps, each asked with a Y/n prompt unless --yes or a --skip flag decides it:
  1. SSO login            aws sso login --profile <AWS_PROFILE>
  2. build the image      docker build --platform linux/amd64 -t <ECR_REPOSITORY>:latest .
  3. push to ECR          tags latest and a UTC timestamp (ECR login through the AWS SDK)
  4. register the task definition from deploy/ecs-task-definition.json and deploy/.env
  5. run a task           the default pipeline, one action, or a list you type

options:
  -y, --yes               answer yes to every step; step 5 runs --action or the default pipeline
      --action <a[,b]>    the actions of step 5 (ACTION override), e.g. test_connections
      --env NAME=VALUE    a variable of the job for the run of step 5 only, e.g.
                          --env LOOKBACK_HOURS=48 (repeatable; names and values are checked)
      --profile <name>    AWS CLI profile (overrides AWS_PROFILE of deploy/.env)
      --region <region>   AWS region (overrides AWS_REGION of deploy/.env)
      --env-file <path>   settings file (default deploy/.env)
      --skip-login --skip-build --skip-push --skip-register --skip-run
                          leave that step out without asking
      --dry-run           print the commands and AWS calls (with their inputs) without making any
      --wait              after step 5, wait for the task to stop and exit with 0 only if it succeeded
  -h, --help              this text

exit codes: 0 done, 1 a step failed, 2 usage or deploy/.env error, 130 interrupted`;

const SKIPS: Record<string, StepId> = {
  '--skip-login': 'login',
  '--skip-build': 'build',
  '--skip-push': 'push',
  '--skip-register': 'register',
  '--skip-run': 'run',
};

const WITH_VALUE = new Set(['--action', '--env', '--profile', '--region', '--env-file']);

export function parseDeployArgs(argv: readonly string[]): DeployOptions {
  const opts: DeployOptions = { yes: false, dryRun: false, wait: false, help: false, skip: new Set(), env: {} };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (WITH_VALUE.has(arg)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
        throw new ConfigError(`${arg} needs a value\n\n${USAGE}`);
      }
      if (arg === '--action') opts.action = value;
      else if (arg === '--env') {
        const [name, v] = parseAssignment(value);
        opts.env[name] = v;
      }
      else if (arg === '--profile') opts.profile = value;
      else if (arg === '--region') opts.region = value;
      else opts.envFile = value;
      continue;
    }
    if (inline !== undefined) throw new ConfigError(`${arg} takes no value\n\n${USAGE}`);
    if (arg === '-y' || arg === '--yes') opts.yes = true;
    else if (arg === '--dry-run') opts.dryRun = true;
    else if (arg === '--wait') opts.wait = true;
    else if (arg === '-h' || arg === '--help') opts.help = true;
    else if (arg in SKIPS) opts.skip.add(SKIPS[arg]);
    else throw new ConfigError(`unknown option ${arg}\n\n${USAGE}`);
  }
  if (opts.action !== undefined && opts.skip.has('run')) throw new ConfigError('--action and --skip-run contradict each other');
  if (Object.keys(opts.env).length && opts.skip.has('run')) throw new ConfigError('--env and --skip-run contradict each other');
  if (opts.wait && opts.skip.has('run')) throw new ConfigError('--wait and --skip-run contradict each other');
  return opts;
}

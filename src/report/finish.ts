// The end of every run, just before the EXECUTION RESULT block (so that block stays the last lines
// of the log, operations.md "Logs"): the run report JSON, one CloudWatch EMF metrics line, the
// status email. Nothing here throws or changes the run's exit code; a failure is a warning.
import type { ActionContext } from '../actions/context.js';
import { describeConfig, SECRET_VARIABLES, type Config, type EmailConfig, type Env } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { buildStatusEmail, sendStatusEmail, type SesSender } from './email.js';
import { emfLine } from './metrics.js';
import { buildRunReport, reportPath, writeJsonAtomic, type ReportInput, type RunReport } from './report.js';

export interface ActionResult {
  name: string;
  outcome: 'success' | 'completed' | 'failed' | 'skipped' | 'stopped' | 'not run';
  ms: number;
  error?: string;
}

export interface RunEnd {
  results: ActionResult[];
  status: 'completed' | 'failed' | 'skipped' | 'stopped';
  exitCode: number;
  totalMs: number;
  error?: string;
}

export interface FinishDeps {
  /** The SES client; default: a new SESv2Client in AWS_REGION, created only when email is on. */
  ses?: SesSender;
  /** Where the EMF line is printed; default process.stdout. */
  stdout?: { write(chunk: string): unknown };
  /** How long to wait for SES before giving up (ms); default 10 000. */
  emailTimeoutMs?: number;
}

export interface FinishSummary {
  report?: RunReport;
  reportPath?: string;
  reportWritten: boolean;
  metricsPrinted: boolean;
  emailSent: boolean;
  messageId?: string;
}

const EMAIL_TIMEOUT_MS = 10_000;

/** Secret values of the configuration, to keep out of the report and the email. */
function configSecrets(c: Config): string[] {
  const out: string[] = [];
  const p = c.postgres;
  // The embedded server's built-in password is a default, not a secret.
  if (p.password && !(p.kind === 'embedded' && p.password === 'postgres')) out.push(p.password);
  if (c.warehouse.kind === 'snowflake') {
    out.push(c.warehouse.privateKey.pem);
    // The base64 body lines too, in case a message quotes part of the key.
    for (const l of c.warehouse.privateKey.pem.split('\n')) if (l.length >= 16 && !l.startsWith('-----')) out.push(l);
  }
  return out;
}

async function finish(
  input: ReportInput,
  where: { configured: string | undefined },
  email: EmailConfig | undefined,
  region: string,
  log: Logger,
  deps: FinishDeps,
): Promise<FinishSummary> {
  const summary: FinishSummary = { reportWritten: false, metricsPrinted: false, emailSent: false };
  let report: RunReport;
  try {
    report = buildRunReport(input);
    summary.report = report;
  } catch (err) {
    log.warn(`Run report not built: ${errorMessage(err)}`);
    return summary;
  }

  const path = reportPath(where.configured, input.startedAt);
  summary.reportPath = path;
  try {
    await writeJsonAtomic(path, report);
    summary.reportWritten = true;
    log.info(`Run report written: ${path}`, { runReport: path });
  } catch (err) {
    log.warn(`Run report not written to ${path}: ${errorMessage(err)}`, { runReport: path });
  }

  try {
    (deps.stdout ?? process.stdout).write(emfLine(report));
    summary.metricsPrinted = true;
  } catch (err) {
    log.warn(`Metrics line not printed: ${errorMessage(err)}`);
  }

  if (email) {
    try {
      const message = buildStatusEmail(report, summary.reportWritten ? path : undefined);
      let client = deps.ses;
      if (!client) {
        const { SESv2Client } = await import('@aws-sdk/client-sesv2');
        client = new SESv2Client({ region });
      }
      summary.messageId = await sendStatusEmail(message, email, client, deps.emailTimeoutMs ?? EMAIL_TIMEOUT_MS);
      summary.emailSent = true;
      log.info(`Status email sent to ${email.recipients.join(', ')}${summary.messageId ? ` (message ${summary.messageId})` : ''}`, {
        emailRecipients: [...email.recipients],
        ...(summary.messageId ? { messageId: summary.messageId } : {}),
      });
    } catch (err) {
      log.warn(`Status email not sent (SES ${region}): ${errorMessage(err)}`);
    }
  }
  return summary;
}

/** Never throws: a failure here is logged and never changes the run's exit code. */
export async function finishRun(ctx: ActionContext, end: RunEnd, deps: FinishDeps = {}): Promise<FinishSummary> {
  try {
    const { config, recorder } = ctx;
    let parameters: Array<[string, string]> | null = null;
    try {
      parameters = describeConfig(config);
    } catch {
      parameters = null;
    }
    return await finish(
      {
        runId: ctx.runId,
        startedAt: ctx.startedAt,
        finishedAt: new Date(),
        environment: config.environment,
        schema: config.postgres.schema,
        end,
        parameters,
        steps: recorder.steps,
        stats: recorder.stats,
        rejects: recorder.rejects,
        dryRun: config.dryRun,
        dryRunChanges: recorder.dryRunChanges,
        secrets: configSecrets(config),
      },
      { configured: config.runReportPath },
      config.email,
      config.awsRegion,
      ctx.log,
      deps,
    );
  } catch (err) {
    try {
      ctx.log.warn(`End-of-run reporting failed: ${errorMessage(err)}`);
    } catch {
      // nothing left to tell
    }
    return { reportWritten: false, metricsPrinted: false, emailSent: false };
  }
}

const ADDRESS = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

/** The status email settings read straight from the environment, when the configuration did not load. */
function rawEmail(env: Env): EmailConfig | undefined {
  const sender = env.EMAIL_SENDER?.trim();
  const recipients = (env.EMAIL_RECIPIENTS ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  if (!sender || !ADDRESS.test(sender) || recipients.length === 0 || !recipients.every((r) => ADDRESS.test(r))) return undefined;
  return { sender, recipients };
}

/**
 * A run that ended on a configuration or usage error (exit 2, no action ran): still a report, the
 * metrics line (RunFailed = 1, so the alarm sees a broken deployment) and, when EMAIL_SENDER and
 * EMAIL_RECIPIENTS are themselves valid, the email. Values come straight from the environment.
 */
export async function finishConfigError(
  list: string | undefined,
  env: Env,
  error: unknown,
  exitCode: number,
  startedAt: Date,
  log: Logger,
  deps: FinishDeps = {},
): Promise<FinishSummary> {
  try {
    const names = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const secrets = [...SECRET_VARIABLES].map((n) => env[n]).filter((v): v is string => typeof v === 'string' && v.length > 0);
    const { randomUUID } = await import('node:crypto');
    return await finish(
      {
        runId: randomUUID(),
        startedAt,
        finishedAt: new Date(),
        environment: (env.ENVIRONMENT?.trim() || 'dev').slice(0, 100),
        schema: null,
        end: {
          results: names.map((name) => ({ name, outcome: 'not run', ms: 0 })),
          status: 'failed',
          exitCode,
          totalMs: Date.now() - startedAt.getTime(),
          error: `Configuration error: ${errorMessage(error)}`,
        },
        parameters: null,
        steps: [],
        stats: {},
        rejects: [],
        dryRun: false,
        secrets,
      },
      { configured: env.RUN_REPORT_PATH?.trim() || undefined },
      rawEmail(env),
      env.AWS_REGION?.trim() || 'us-east-1',
      log,
      deps,
    );
  } catch (err) {
    try {
      log.warn(`End-of-run reporting failed: ${errorMessage(err)}`);
    } catch {
      // nothing left to tell
    }
    return { reportWritten: false, metricsPrinted: false, emailSent: false };
  }
}

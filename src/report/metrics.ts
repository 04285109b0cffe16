// One CloudWatch Embedded Metric Format line per run, on stdout as a bare JSON object, in both
// LOG_FORMAT modes, so the ECS awslogs stream turns it into metrics (namespace ConflictUpdater,
// dimension Environment; the infra alarm watches RunFailed).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
import type { RunReport } from './report.js';
import type { StatisticName } from './statistics.js';

export const METRIC_NAMESPACE = 'ConflictUpdater';

/** The headline counts of a run, from the statistics the job records (0 when not recorded). */
export interface Headline {
  detected: number;
  inserted: number;
  updated: number;
  resolved: number;
  rejected: number;
  /** True when the job recorded any of inserted/updated/resolved (it wrote, or tried to). */
  hasSync: boolean;
}

export function headline(report: Pick<RunReport, 'statistics' | 'rejects'>): Headline {
  const s = report.statistics;
  const num = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const stat = (name: StatisticName) => num(s[name]);
  // `resolved`: one total, when a report carries it (docs/run-report.md).
  const resolved = s.resolved !== undefined ? num(s.resolved) : stat('staleResolved') + stat('exclusionResolved');
  const rejected = s.rejected !== undefined ? stat('rejected') : report.rejects.reduce((a, r) => a + num(r.count), 0);
  const written: StatisticName[] = ['inserted', 'updated', 'staleResolved', 'exclusionResolved'];
  return {
    detected: s.detectedRows !== undefined ? stat('detectedRows') : stat('detected'),
    inserted: stat('inserted'),
    updated: stat('updated'),
    resolved,
    rejected,
    hasSync: s.resolved !== undefined || written.some((k) => s[k] !== undefined),
  };
}

export const METRICS = [
  { Name: 'DurationSeconds', Unit: 'Seconds' },
  { Name: 'Detected', Unit: 'Count' },
  { Name: 'Inserted', Unit: 'Count' },
  { Name: 'Updated', Unit: 'Count' },
  { Name: 'Resolved', Unit: 'Count' },
  { Name: 'Rejected', Unit: 'Count' },
  { Name: 'RunFailed', Unit: 'Count' },
  { Name: 'RunSkipped', Unit: 'Count' },
] as const;

/**
 * The EMF object of a run: metrics as top-level members, Environment the one dimension. A dry run
 * publishes under Environment and Mode=dry-run: its counts and outcome stay out of the metrics
 * (and the alarms) of the runs that write.
 */
export function buildEmf(report: RunReport): Record<string, unknown> {
  const h = headline(report);
  const dimensions = report.dryRun ? ['Environment', 'Mode'] : ['Environment'];
  return {
    _aws: {
      Timestamp: Date.parse(report.finishedAt),
      CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [dimensions], Metrics: METRICS.map((m) => ({ ...m })) }],
    },
    Environment: report.environment,
    ...(report.dryRun ? { Mode: 'dry-run' } : {}),
    Outcome: report.status,
    RunId: report.runId,
    ExitCode: report.exitCode,
    Actions: report.actions.map((a) => a.name).join(','),
    DurationSeconds: report.durationSeconds,
    Detected: h.detected,
    Inserted: h.inserted,
    Updated: h.updated,
    Resolved: h.resolved,
    Rejected: h.rejected,
    RunFailed: report.status === 'failed' || report.status === 'stopped' ? 1 : 0,
    RunSkipped: report.status === 'skipped' ? 1 : 0,
  };
}

/** The line as printed: one JSON object, no prefix, newline-terminated. */
export function emfLine(report: RunReport): string {
  return JSON.stringify(buildEmf(report)) + '\n';
}

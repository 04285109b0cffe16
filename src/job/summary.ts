// The summary of a run's statistics (sync.md, "Statistics every run reports"), logged at the end,
// with the labels and order of report/statistics.ts.
import { formatCount, formatDuration, type Logger } from '../log.js';
import { orderedStatistics, statisticLabel } from '../report/statistics.js';
import type { RunRecorder } from '../run/recorder.js';

export function summaryLines(recorder: RunRecorder): string[] {
  const lines: string[] = ['Summary:'];
  for (const [name, value] of orderedStatistics(recorder.stats)) lines.push(`  ${statisticLabel(name).padEnd(38)} ${formatCount(value)}`);
  for (const r of recorder.rejects) lines.push(`  rejected: ${r.reason}: ${formatCount(r.count)}`);
  for (const s of recorder.steps) {
    lines.push(`  step ${s.name.padEnd(38)} ${formatDuration(s.seconds * 1000)}${s.rows !== undefined ? `, ${formatCount(s.rows)} ${s.unit ?? 'rows'}` : ''}`);
  }
  return lines;
}

export function logSummary(log: Logger, recorder: RunRecorder): void {
  for (const l of summaryLines(recorder)) log.info(l);
}

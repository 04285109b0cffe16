// The summary of a run's statistics (sync.md, "Statistics every run reports"), logged at the end.
import { formatCount, formatDuration, type Logger } from '../log.js';
import type { RunRecorder } from '../run/recorder.js';

/** Sync statistics in the order the summary prints them, with their labels. */
const SYNC_LINES: ReadonlyArray<readonly [string, string]> = [
  ['detected', 'detected rows'],
  ['rejected', 'rejected as invalid'],
  ['matched', 'matched (detected rows)'],
  ['matchedRows', 'matched CVM rows'],
  ['new', 'new'],
  ['blockedByInServicePto', 'blocked by InService/PTO rows'],
  ['inserted', 'inserted'],
  ['dirty', 'dirty'],
  ['updated', 'updated'],
  ['updatedByFlag', '  by rule flag'],
  ['updatedByColumn', '  by business column'],
  ['reopened', '  re-opened'],
  ['clean', 'clean (skipped)'],
  ['staleResolved', 'stale resolved'],
  ['exclusionResolved', 'resolved by exclusions'],
  ['conflictIdsRepaired', 'CONFLICTID repaired'],
  ['conflictIdsReused', 'CONFLICTID reused (visits)'],
  ['conflictIdsAllocated', 'CONFLICTID allocated (visits)'],
  ['parentsCreated', 'conflicts rows created'],
  ['affectedGroups', 'affected groups received'],
  ['scopeVisitIds', 'scope visit ids received'],
];

export function summaryLines(recorder: RunRecorder): string[] {
  const stats = recorder.stats;
  const known = new Set(SYNC_LINES.map(([k]) => k));
  const lines: string[] = ['Summary:'];
  const others = Object.keys(stats).filter((k) => !known.has(k));
  for (const k of others) lines.push(`  ${k.padEnd(32)} ${formatCount(stats[k])}`);
  for (const [k, label] of SYNC_LINES) {
    if (k in stats) lines.push(`  ${label.padEnd(32)} ${formatCount(stats[k])}`);
  }
  for (const r of recorder.rejects) lines.push(`  rejected: ${r.reason}: ${formatCount(r.count)}`);
  for (const s of recorder.steps) {
    lines.push(`  step ${s.name.padEnd(38)} ${formatDuration(s.seconds * 1000)}${s.rows !== undefined ? `, ${formatCount(s.rows)} ${s.unit ?? 'rows'}` : ''}`);
  }
  return lines;
}

export function logSummary(log: Logger, recorder: RunRecorder): void {
  const lines = summaryLines(recorder);
  for (const l of lines) log.info(l);
}

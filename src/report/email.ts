// The status email (operations.md, "Configuration": EMAIL_SENDER, EMAIL_RECIPIENTS, AWS_REGION):
// after every run, success or failure, through Amazon SES (SDK v3, SESv2 SendEmail). HTML and a
// plain-text part with the same content. Every value that comes from data, errors or the
// configuration is HTML-escaped.
import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import { formatCount, formatDuration } from '../log.js';
import { headline } from './metrics.js';
import type { RunReport } from './report.js';
import { orderedStatistics, statisticLabel } from './statistics.js';

export interface StatusEmail {
  subject: string;
  html: string;
  text: string;
}

/** What sends: an SESv2Client, or a test double. */
export interface SesSender {
  send(command: SendEmailCommand, options?: { abortSignal?: AbortSignal }): Promise<SendEmailCommandOutput>;
}

export function escapeHtml(v: unknown): string {
  return String(v)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function fmtNumber(n: number): string {
  return Number.isInteger(n) ? formatCount(n) : n.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function oneLine(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function emailSubject(r: RunReport): string {
  const prefix = `[conflict-updater ${r.environment}${r.dryRun ? ' DRY RUN' : ''}]`;
  const h = headline(r);
  let body: string;
  if (r.status === 'completed') {
    if (h.hasSync) {
      body = `completed: ${formatCount(h.inserted)} inserted, ${formatCount(h.updated)} updated, ${formatCount(h.resolved)} resolved`;
      if (h.rejected > 0) body += `, ${formatCount(h.rejected)} rejected`;
    } else {
      body = `completed: ${r.actions.map((a) => a.name).join(', ')}`;
    }
  } else if (r.status === 'failed') body = `FAILED: ${r.error ?? 'unknown error'}`;
  else if (r.status === 'stopped') body = `STOPPED: ${r.error ?? 'stopped'}`;
  else body = `skipped: ${r.error ?? 'another run holds the lock'}`;
  return oneLine(`${prefix} ${body}`, 200);
}

interface Section {
  title: string;
  head: string[];
  rows: Array<{ cells: string[]; alert?: boolean }>;
  /** Right-align these columns (numbers). */
  numeric?: number[];
}

/** The pairs `<x>Before` / `<x>After` of the statistics (row counts before and after the run). */
function beforeAfter(stats: Record<string, number>): { pairs: Array<[string, number, number]>; used: Set<string> } {
  const pairs: Array<[string, number, number]> = [];
  const used = new Set<string>();
  for (const [k, before] of Object.entries(stats)) {
    const m = /^(.+)Before$/.exec(k);
    if (!m) continue;
    const after = stats[`${m[1]}After`];
    if (after === undefined) continue;
    pairs.push([m[1], before, after]);
    used.add(k).add(`${m[1]}After`);
  }
  return { pairs, used };
}

function sections(r: RunReport, reportPath: string | undefined): Section[] {
  const out: Section[] = [];
  out.push({
    title: 'Run',
    head: ['', ''],
    rows: [
      ['Status', r.status],
      ['Environment', r.environment],
      ['Schema', r.schema ?? '–'],
      ['Run id', r.runId],
      ['Started', r.startedAt],
      ['Finished', r.finishedAt],
      ['Duration', formatDuration(r.durationSeconds * 1000)],
      ['Exit code', String(r.exitCode)],
      ...(r.error !== null ? [['Error', r.error]] : []),
      ...(reportPath ? [['Run report', reportPath]] : []),
    ].map((cells) => ({ cells, alert: cells[0] === 'Error' })),
  });
  out.push({
    title: 'Actions',
    head: ['Action', 'Outcome', 'Duration', 'Error'],
    rows: r.actions.map((a) => ({
      cells: [a.name, a.outcome, a.outcome === 'not run' ? '' : formatDuration(a.seconds * 1000), a.error ?? ''],
      alert: a.outcome === 'failed' || a.outcome === 'stopped' || a.outcome === 'skipped',
    })),
  });
  const { pairs, used } = beforeAfter(r.statistics);
  if (pairs.length) {
    out.push({
      title: 'Row counts before and after',
      head: ['Table', 'Before', 'After', 'Change'],
      numeric: [1, 2, 3],
      rows: pairs.map(([name, b, a]) => ({
        cells: [statisticLabel(name), fmtNumber(b), fmtNumber(a), `${a - b >= 0 ? '+' : ''}${fmtNumber(a - b)}`],
      })),
    });
  }
  const stats = orderedStatistics(r.statistics).filter(([k]) => !used.has(k));
  if (stats.length) {
    out.push({
      title: 'Statistics',
      head: ['Statistic', 'Value'],
      numeric: [1],
      rows: stats.map(([k, v]) => ({ cells: [statisticLabel(k), fmtNumber(v)], alert: k === 'rejected' && v > 0 })),
    });
  }
  if (r.steps.length) {
    out.push({
      title: 'Steps',
      head: ['Step', 'Duration', 'Rows'],
      numeric: [1, 2],
      rows: r.steps.map((s) => ({
        cells: [s.name, formatDuration(s.seconds * 1000), s.rows !== undefined ? `${fmtNumber(s.rows)}${s.unit ? ` ${s.unit}` : ''}` : ''],
      })),
    });
  }
  if (r.rejects.length) {
    out.push({
      title: 'Rejected rows (invalid, left out of the write)',
      head: ['Reason', 'Count', 'Examples'],
      numeric: [1],
      rows: r.rejects.map((j) => ({
        cells: [j.reason, fmtNumber(j.count), j.examples.map((e) => JSON.stringify(e)).join('\n')],
        alert: true,
      })),
    });
  }
  if (r.parameters) {
    out.push({
      title: 'Parameters',
      head: ['Parameter', 'Value'],
      rows: Object.entries(r.parameters).map(([k, v]) => ({ cells: [k, v] })),
    });
  }
  return out;
}

const COLORS: Record<RunReport['status'], { bg: string; fg: string; word: string }> = {
  completed: { bg: '#2e7d32', fg: '#ffffff', word: 'COMPLETED' },
  failed: { bg: '#c62828', fg: '#ffffff', word: 'FAILED' },
  stopped: { bg: '#c62828', fg: '#ffffff', word: 'STOPPED' },
  skipped: { bg: '#f9a825', fg: '#000000', word: 'SKIPPED' },
};

function htmlBody(r: RunReport, subject: string, secs: Section[]): string {
  const c = COLORS[r.status];
  const banner =
    `<div style="background:${c.bg};color:${c.fg};padding:12px 16px;font-size:18px;font-weight:bold">` +
    `${c.word}: conflict-updater ${escapeHtml(r.environment)}` +
    (r.error !== null ? `<div style="font-size:14px;font-weight:normal;margin-top:6px;white-space:pre-wrap">${escapeHtml(r.error)}</div>` : '') +
    '</div>';
  const cell = 'border:1px solid #ddd;padding:4px 8px;vertical-align:top';
  const tables = secs.map((s) => {
    const head = s.head.some(Boolean)
      ? `<tr>${s.head.map((h) => `<th style="${cell};background:#f3f3f3;text-align:left">${escapeHtml(h)}</th>`).join('')}</tr>`
      : '';
    const rows = s.rows
      .map(
        (row) =>
          `<tr${row.alert ? ' style="background:#fdecea;color:#b71c1c"' : ''}>` +
          row.cells
            .map(
              (v, i) =>
                `<td style="${cell}${s.numeric?.includes(i) ? ';text-align:right' : ''}${v.includes('\n') ? ';white-space:pre-wrap;font-family:monospace' : ''}">${escapeHtml(v)}</td>`,
            )
            .join('') +
          '</tr>',
      )
      .join('');
    return `<h3 style="margin:18px 0 6px">${escapeHtml(s.title)}</h3><table style="border-collapse:collapse;font-size:13px">${head}${rows}</table>`;
  });
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>` +
    `<body style="font-family:Arial,Helvetica,sans-serif;color:#222">${banner}${tables.join('')}</body></html>`
  );
}

function textBody(r: RunReport, secs: Section[]): string {
  const c = COLORS[r.status];
  const lines: string[] = [`${c.word}: conflict-updater ${r.environment}`];
  if (r.error !== null) lines.push(`Error: ${r.error}`);
  for (const s of secs) {
    lines.push('', s.title, '-'.repeat(s.title.length));
    const rows = s.rows.map((row) => ({ cells: row.cells.map((v) => v.replace(/\n/g, '; ')), alert: row.alert }));
    const all = s.head.some(Boolean) ? [{ cells: s.head, alert: false }, ...rows] : rows;
    const widths = s.head.map((_, i) => Math.min(48, Math.max(...all.map((row) => (row.cells[i] ?? '').length))));
    for (const row of all) {
      const text = row.cells
        .map((v, i) => (s.numeric?.includes(i) ? v.padStart(widths[i]) : i === row.cells.length - 1 ? v : v.padEnd(widths[i])))
        .join('  ')
        .trimEnd();
      lines.push(`${row.alert ? '! ' : '  '}${text}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Subject, HTML and text of the status email for a run report. */
export function buildStatusEmail(report: RunReport, reportPath?: string): StatusEmail {
  const subject = emailSubject(report);
  const secs = sections(report, reportPath);
  return { subject, html: htmlBody(report, subject, secs), text: textBody(report, secs) };
}

/** Send through SES; resolves with the message id, rejects on failure or after `timeoutMs`. */
export async function sendStatusEmail(
  email: StatusEmail,
  to: { sender: string; recipients: readonly string[] },
  client: SesSender,
  timeoutMs: number,
): Promise<string | undefined> {
  const { SendEmailCommand } = await import('@aws-sdk/client-sesv2');
  const command = new SendEmailCommand({
    FromEmailAddress: to.sender,
    Destination: { ToAddresses: [...to.recipients] },
    Content: {
      Simple: {
        Subject: { Data: email.subject, Charset: 'UTF-8' },
        Body: { Html: { Data: email.html, Charset: 'UTF-8' }, Text: { Data: email.text, Charset: 'UTF-8' } },
      },
    },
  });
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer from SES within ${timeoutMs / 1000}s`));
      abort.abort();
    }, timeoutMs);
    // Not unref'd: the wait must hold the process open, or a stalled send would end it early.
  });
  try {
    const out = await Promise.race([client.send(command, { abortSignal: abort.signal }), timeout]);
    return out.MessageId;
  } finally {
    clearTimeout(timer);
  }
}

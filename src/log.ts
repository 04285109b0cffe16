// Logging: plain lines on stdout (CloudWatch shows them as they are) or one JSON object per
// line with LOG_FORMAT=json (operations.md, "Logs"). Known secret values are redacted from
// every line as a last line of defence; callers log presence and length, never values.
import type { LogFormat, LogLevel } from './config/config.js';

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** True when lines go to a terminal (progress bars instead of progress lines). */
  readonly isTTY: boolean;
  readonly format: LogFormat;
  /**
   * On a terminal: show (or replace) a live status line, the progress bar of src/run/progress.ts,
   * kept below the log lines; `undefined` clears it. Does nothing when lines do not go to a terminal.
   */
  status?(text: string | undefined): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Values that must never appear in a line (replaced by ***). */
  secrets?: readonly string[];
}

function stamp(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 23);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = RANK[opts.level ?? 'INFO'];
  const format = opts.format ?? 'text';
  const out = opts.out ?? process.stdout;
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);
  const redact = (s: string) => secrets.reduce((acc, sec) => acc.split(sec).join('***'), s);
  const tty = Boolean(out.isTTY);
  // The live status line (progress bar) on a terminal: erased before a log line, redrawn after it.
  let statusText: string | undefined;
  const CLEAR = '\r\x1b[K';
  const write = (lvl: LogLevel, msg: string, fields?: Fields) => {
    if (RANK[lvl] < level) return;
    const now = new Date();
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time: now.toISOString(), level: lvl, msg, ...fields });
    } else {
      // Fields are for machines (JSON); a text line says everything in its message.
      line = `${stamp(now)} ${lvl.padEnd(7)} ${msg}`;
    }
    out.write(statusText === undefined ? redact(line) + '\n' : `${CLEAR}${redact(line)}\n${statusText}`);
  };
  const status = (text: string | undefined) => {
    if (!tty) return;
    const next = text === undefined ? undefined : redact(text);
    if (next === undefined && statusText === undefined) return;
    statusText = next;
    out.write(next === undefined ? CLEAR : `${CLEAR}${next}`);
  };
  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
    isTTY: tty,
    format,
    status,
  };
}

/** `1.2s`, `8m 26s`, `1h 02m`: the durations of the EXECUTION RESULT block. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - m * 60)}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** 12517521 → `12,517,521`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

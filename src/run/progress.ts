// Progress during long steps (operations.md, "Logs"): "progress every few seconds during long
// steps … On a terminal, long steps show a progress bar instead of progress lines."
//
//   const p = startProgress(ctx.log, 'Step 3 (conflict detection)', expectedRows, { unit: 'rows' });
//   try {
//     for await (const chunk of stream) { …; p.tick(chunk.length); }
//   } finally {
//     p.done();
//   }
//
// On a terminal (log.isTTY) a bar is drawn on the log's own stream with `\r` and kept below any log
// line written meanwhile; otherwise one INFO line every `intervalMs` (5 s) while the step runs
// (a heartbeat even when no rows arrive). A step shorter than the interval logs no progress line.
import { formatCount, formatDuration, type Logger } from '../log.js';

export interface Progress {
  /** `n` more units done (default 1). Cheap: call it per chunk or per row. */
  tick(n?: number): void;
  /** Stop the timer and clear the bar. Idempotent; call it in a `finally`. */
  done(): void;
  /** Units done so far. */
  readonly count: number;
}

export interface ProgressOptions {
  /** What is counted, for the text: `rows` (default), `groups`, `batches`… */
  unit?: string;
  /** Milliseconds between progress lines when not on a terminal (default 5000). */
  intervalMs?: number;
  /** Milliseconds between redraws of the bar on a terminal (default 200). */
  redrawMs?: number;
  /** Width of the bar in characters (default 30). */
  barWidth?: number;
}

/** Start reporting progress of one step; `total`, when known, adds a percentage and a time left. */
export function startProgress(log: Logger, label: string, total?: number, opts: ProgressOptions = {}): Progress {
  const unit = opts.unit ?? 'rows';
  const intervalMs = opts.intervalMs ?? 5000;
  const redrawMs = opts.redrawMs ?? 200;
  const width = opts.barWidth ?? 30;
  const knownTotal = total !== undefined && Number.isFinite(total) && total > 0 ? total : undefined;
  const bar = log.isTTY && typeof log.status === 'function';
  const t0 = performance.now();
  let count = 0;
  let finished = false;
  let lastDraw = 0;

  const figures = () => {
    const elapsedMs = performance.now() - t0;
    const rate = elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
    const fraction = knownTotal ? Math.min(1, count / knownTotal) : undefined;
    const leftMs = knownTotal && rate > 0 && count < knownTotal ? ((knownTotal - count) / rate) * 1000 : undefined;
    return { elapsedMs, rate, fraction, leftMs };
  };

  const draw = () => {
    const { elapsedMs, rate, fraction, leftMs } = figures();
    lastDraw = performance.now();
    let text: string;
    if (fraction !== undefined) {
      const filled = Math.round(fraction * width);
      text =
        `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}% ` +
        `${formatCount(count)}/${formatCount(knownTotal as number)} ${unit} ${formatDuration(elapsedMs)}` +
        (leftMs !== undefined ? ` ~${formatDuration(leftMs)} left` : '');
    } else {
      text = `${label}: ${formatCount(count)} ${unit} ${formatDuration(elapsedMs)} (${formatCount(Math.round(rate))} ${unit}/s)`;
    }
    log.status?.(text);
  };

  const line = () => {
    const { elapsedMs, rate, fraction, leftMs } = figures();
    const done = knownTotal
      ? `${formatCount(count)} of ${formatCount(knownTotal)} ${unit} (${((fraction as number) * 100).toFixed(1)}%)`
      : `${formatCount(count)} ${unit}`;
    log.info(
      `${label}: ${done}, ${formatCount(Math.round(rate))} ${unit}/s, ${formatDuration(elapsedMs)} elapsed` +
        (leftMs !== undefined ? `, ~${formatDuration(leftMs)} left` : ''),
      {
        progress: label,
        count,
        ...(knownTotal ? { total: knownTotal } : {}),
        unit,
        seconds: Number((elapsedMs / 1000).toFixed(1)),
      },
    );
  };

  const timer = setInterval(bar ? draw : line, bar ? Math.max(redrawMs, 1000) : intervalMs);
  timer.unref();
  if (bar) draw();

  return {
    tick(n = 1) {
      if (finished) return;
      count += n;
      if (bar && performance.now() - lastDraw >= redrawMs) draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      if (bar) log.status?.(undefined);
    },
    get count() {
      return count;
    },
  };
}

/** Run `fn` with a progress of its own, done when `fn` settles. */
export async function withProgress<T>(
  log: Logger,
  label: string,
  fn: (progress: Progress) => Promise<T>,
  opts: ProgressOptions & { total?: number } = {},
): Promise<T> {
  const p = startProgress(log, label, opts.total, opts);
  try {
    return await fn(p);
  } finally {
    p.done();
  }
}

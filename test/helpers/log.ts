// Loggers for tests: the program's own logger (src/log.ts) writing into memory, so a test can
// read the lines a user would see; or writing nowhere, where the lines do not matter.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export interface CapturedLog {
  log: Logger;
  /** Everything written so far, as written (progress bars' carriage returns included). */
  text(): string;
  /** The non-empty lines written so far. */
  lines(): string[];
}

/** A DEBUG logger that keeps what it writes; `isTTY`: it writes as to a terminal. */
export function captureLog(opts: { format?: 'text' | 'json'; isTTY?: boolean; secrets?: string[] } = {}): CapturedLog {
  let buf = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      buf += String(chunk);
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  if (opts.isTTY) out.isTTY = true;
  const log = createLogger({ format: opts.format ?? 'text', out, secrets: opts.secrets, level: 'DEBUG' });
  return { log, text: () => buf, lines: () => buf.split('\n').filter(Boolean) };
}

/** A logger that writes nothing (errors only, discarded). */
export function silentLog(): Logger {
  return createLogger({ level: 'ERROR', out: new Writable({ write: (_chunk, _enc, cb) => cb() }) });
}

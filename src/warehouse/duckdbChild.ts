// The process that hosts a DuckDB session for duckdbProcess.ts: one session, requests over IPC.
// It leaves when the job closes the session or when the job goes away (the IPC channel closes).
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { DuckDbConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { openDuckDb, type DuckDbSession } from './duckdb.js';
import type { DuckDbReply, DuckDbRequest } from './duckdbProcess.js';
import type { SqlParam } from './warehouse.js';

let session: DuckDbSession | undefined;
let nextSid = 1;

/** An open stream: its iterator and the batch fetched ahead of the next request. */
interface OpenStream {
  it: AsyncIterator<string>;
  ahead: Promise<IteratorResult<string>> | undefined;
}
const streams = new Map<number, OpenStream>();

// Stream batches go out on a pipe of their own (fd 4, see duckdbProcess.ts): IPC messages move
// ~80 MB/s, a pipe ~400 MB/s, and production-sized streams are hundreds of MB.
const data = createWriteStream('', { fd: 4 });

/** One frame on the data pipe: [byte length, request id] as two 32-bit numbers, then the text as UTF-8. */
async function sendFrame(id: number, text: string): Promise<void> {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(body.length, 0);
  head.writeUInt32BE(id, 4);
  data.write(head);
  if (!data.write(body)) await once(data, 'drain');
}

function reply(m: DuckDbReply): void {
  process.send?.(m);
}

function fail(id: number, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  reply({ id, ok: false, error: { name: e.name, message: e.message } });
}

function need(): DuckDbSession {
  if (!session) throw new Error('the DuckDB session is not open');
  return session;
}

async function handle(m: DuckDbRequest): Promise<unknown> {
  switch (m.op) {
    case 'open': {
      const log = createLogger({ level: 'WARNING' });
      session = await openDuckDb(m.config as DuckDbConfig, { timezone: (m.timezone as string | null) ?? undefined, log });
      return null;
    }
    case 'version':
      return need().version();
    case 'execute':
      return need().execute(m.sql as string, m.params as SqlParam[]);
    case 'query':
      return need().query(m.sql as string, m.params as SqlParam[]);
    case 'insertRows':
      return need().insertRows(m.table as string, m.columns as string[], m.rows as SqlParam[][]);
    case 'stream': {
      const it = need().streamJson(m.sql as string, m.params as SqlParam[], m.batchSize as number)[Symbol.asyncIterator]();
      const sid = nextSid++;
      // The first batch is fetched at once: the statement runs (and fails) now, as in process.
      streams.set(sid, { it, ahead: it.next() });
      await streams.get(sid)!.ahead;
      return sid;
    }
    case 'next': {
      const s = streams.get(m.sid as number);
      if (!s) return null;
      const r = await (s.ahead ?? s.it.next());
      if (r.done) {
        streams.delete(m.sid as number);
        return null;
      }
      // One batch ahead: DuckDB works on the next while the job handles this one.
      s.ahead = s.it.next();
      s.ahead.catch(() => undefined); // reported by the next request
      await sendFrame(m.id, r.value);
      return m.id;
    }
    case 'end': {
      const s = streams.get(m.sid as number);
      streams.delete(m.sid as number);
      if (s) {
        await s.ahead?.catch(() => undefined);
        await s.it.return?.();
      }
      return null;
    }
    case 'cancel':
      await session?.cancel();
      return null;
    case 'close':
      for (const s of streams.values()) await s.it.return?.().catch(() => undefined);
      streams.clear();
      await session?.close();
      session = undefined;
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new Error(`unknown request ${String(m.op)}`);
  }
}

process.on('message', (m: DuckDbRequest) => {
  handle(m).then(
    (value) => reply({ id: m.id, ok: true, value }),
    (err) => fail(m.id, err),
  );
});
// The job decides when to stop (it cancels and closes this session); a signal to the whole process
// group must not end DuckDB under it. Without the job, there is nothing to do.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(0));

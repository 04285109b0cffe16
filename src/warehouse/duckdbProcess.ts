// The local warehouse in a process of its own. DuckDB works in the memory of the process that
// loads it: a run over a production-sized warehouse needs gigabytes there, which would count as
// the job's memory although, in production, the warehouse (Snowflake) is another machine. So the
// job talks to DuckDB the way it talks to Snowflake: through a session whose engine runs
// elsewhere, here a child process (duckdbChild.ts) reached over IPC. The job process keeps only
// the batch it is working on (operations.md: memory flat; performance.md: the job's peak RSS with
// DuckDB measured separately).
//
// Protocol (advanced serialization): requests { id, op, … } answered by { id, ok, value | error };
// a stream answers each `next` with the id of a frame it wrote on the data pipe (null at the end):
// one batch as text (textBatch.ts, or JSON), fetching the following batch meanwhile (one batch
// ahead, so DuckDB and the job overlap). The batches take a pipe of their own: IPC messages move
// ~80 MB/s, a pipe ~400 MB/s.
import { fork, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { DuckDbConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { parseTextBatch, TEXT_BATCH } from './textBatch.js';
import type { OpenWarehouseOptions, SqlParam, WarehouseRow, WarehouseSession } from './warehouse.js';

export interface DuckDbRequest {
  id: number;
  op: 'open' | 'version' | 'execute' | 'query' | 'stream' | 'next' | 'end' | 'insertRows' | 'cancel' | 'close';
  [k: string]: unknown;
}

export interface DuckDbReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
}

/** How long close() waits for the child to leave before killing it. */
const CLOSE_TIMEOUT_MS = 10_000;

function childEntry(): { module: string; execArgv: string[] } {
  const self = import.meta.url;
  // From the TypeScript sources (tsx) the child needs the same loader; compiled, plain node.
  if (self.endsWith('.ts')) {
    return { module: new URL('./duckdbChild.ts', self).pathname, execArgv: ['--import', import.meta.resolve('tsx')] };
  }
  return { module: new URL('./duckdbChild.js', self).pathname, execArgv: [] };
}

/** Frames [u32 byte length, u32 request id, UTF-8 text] from the child's data pipe, taken by id. */
class Frames {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Frames that arrived before anyone asked (the IPC reply and the frame race). */
  private readonly ready = new Map<number, Buffer>();
  private readonly waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private closed: Error | undefined;

  constructor(pipe: Readable) {
    pipe.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.size += b.length;
      this.parse();
    });
    pipe.on('close', () => {
      this.closed = new Error('the DuckDB process closed its data pipe');
      for (const w of this.waiting.values()) w.reject(this.closed);
      this.waiting.clear();
    });
  }

  /** The frame of request `id`; frames of earlier requests nobody took (a stream abandoned) are dropped. */
  take(id: number): Promise<Buffer> {
    for (const k of this.ready.keys()) if (k < id) this.ready.delete(k);
    const b = this.ready.get(id);
    if (b) {
      this.ready.delete(id);
      return Promise.resolve(b);
    }
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private parse(): void {
    while (this.size >= 8) {
      if (this.chunks[0].length < 8) this.chunks = [Buffer.concat(this.chunks)];
      const head = this.chunks[0];
      const length = head.readUInt32BE(0);
      const id = head.readUInt32BE(4);
      if (this.size < 8 + length) return;
      // Joined once, when the whole frame is there.
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
      const body = all.subarray(8, 8 + length);
      const rest = all.subarray(8 + length);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
      const w = this.waiting.get(id);
      if (w) {
        this.waiting.delete(id);
        w.resolve(body);
      } else {
        this.ready.set(id, body);
      }
    }
  }
}

class DuckDbProcessSession implements WarehouseSession {
  readonly dialect = 'duckdb' as const;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  private readonly frames: Frames;

  constructor(private readonly child: ChildProcess) {
    this.frames = new Frames(child.stdio[4] as Readable);
    child.on('message', (m: DuckDbReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(toError(m.error));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`the DuckDB process ended (${signal ?? `exit ${code}`})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /** The child's pid (the benchmark measures its memory). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  request<T>(op: DuckDbRequest['op'], fields: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, ...fields } satisfies DuckDbRequest, (err) => {
        if (err && this.pending.delete(id)) reject(err);
      });
    });
  }

  version(): Promise<string> {
    return this.request('version');
  }

  execute(sql: string, params: readonly SqlParam[] = []): Promise<number | undefined> {
    return this.request('execute', { sql, params });
  }

  query(sql: string, params: readonly SqlParam[] = []): Promise<Array<Record<string, SqlParam>>> {
    return this.request('query', { sql, params });
  }

  async *stream(sql: string, params: readonly SqlParam[], batchSize: number): AsyncIterable<WarehouseRow[]> {
    const sid = await this.request<number>('stream', { sql, params, batchSize });
    let done = false;
    try {
      for (;;) {
        const frame = await this.request<number | null>('next', { sid });
        if (frame === null) {
          done = true;
          return;
        }
        const text = (await this.frames.take(frame)).toString('utf8');
        yield text.startsWith(TEXT_BATCH) ? parseTextBatch(text) : (JSON.parse(text) as WarehouseRow[]);
      }
    } finally {
      // The consumer stopped early (or failed): let the child drop the stream.
      if (!done && !this.exited) await this.request('end', { sid }).catch(() => undefined);
    }
  }

  insertRows(table: string, columns: readonly string[], rows: readonly (readonly SqlParam[])[]): Promise<void> {
    return this.request('insertRows', { table, columns, rows });
  }

  async cancel(): Promise<void> {
    if (this.exited) return;
    await this.request('cancel');
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request('close').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  }
}

function toError(e: DuckDbReply['error']): Error {
  if (e?.name === 'ConfigError') return new ConfigError(e.message);
  const err = new Error(e?.message ?? 'DuckDB process error');
  if (e && e.name !== 'Error') err.name = e.name;
  return err;
}

/** A DuckDB session hosted by a child process; same behaviour as openDuckDb's, memory apart. */
export async function openDuckDbProcess(config: DuckDbConfig, opts: OpenWarehouseOptions): Promise<WarehouseSession> {
  const entry = childEntry();
  const child = fork(entry.module, [], {
    execArgv: entry.execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
  });
  // A stop (SIGTERM to the job) is handled by the job, which cancels and closes this session: the
  // child must not take the signal itself. Its own process group would do, but the IPC channel
  // already ends it when the job goes away (duckdbChild.ts).
  const session = new DuckDbProcessSession(child);
  try {
    await session.request('open', { config, timezone: opts.timezone ?? null });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return session;
}

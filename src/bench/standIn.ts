// `bench --warehouse snowflake-stand-in`: the job runs through snowflake-sdk against the local
// stand-in of Snowflake's HTTP service (test/helpers/snowflakeStandIn.ts; it is not Snowflake),
// which runs each statement's DuckDB twin on the bench's warehouse file and answers in Snowflake's
// result format. The stand-in runs in a process of its own (TypeScript through tsx: a checkout's
// tool), so the job process holds only the job, as in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { jobEnv, ROOT, type JobRunInput } from './job.js';

const SERVER = join(ROOT, 'test', 'helpers', 'snowflakeStandInServer.ts');
const ACCOUNT = 'BENCHACCT';
const USER = 'CONFLICT_JOB';

/** What the stand-in reports when it stops (snowflakeStandInWarehouse.ts WarehouseStats and more). */
export type StandInStats = Record<string, number>;

export interface StandIn {
  /** The job's SNOWFLAKE_* variables (SNOWFLAKE_ACCESS_URL pointing at the stand-in). */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<StandInStats | undefined>;
}

/** One stand-in for one job run (`input`: the run the job will make; its target holds the reference data). */
export async function startStandIn(input: JobRunInput, specPath: string): Promise<StandIn> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sf = {
    SNOWFLAKE_ACCOUNT: ACCOUNT.toLowerCase(),
    SNOWFLAKE_USER: USER.toLowerCase(),
    SNOWFLAKE_WAREHOUSE: 'BENCH_WH',
    SNOWFLAKE_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  // The job's configuration without its Snowflake login (no key on disk): the same database and
  // schema names, windows, AS_OF and target, which is all the twins need.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(jobEnv(input))) if (v !== undefined && !(k in sf) && k !== 'SNOWFLAKE_ACCESS_URL') env[k] = v;
  mkdirSync(dirname(specPath), { recursive: true });
  writeFileSync(
    specPath,
    JSON.stringify({ env, duckdbPath: input.duckdbPath, account: ACCOUNT, user: USER, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) }),
    { mode: 0o600 },
  );
  // Not the job's heap cap: the stand-in holds whole results, as Snowflake's storage does.
  const { NODE_OPTIONS: _cap, ...own } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, specPath], { cwd: ROOT, env: own, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = lineReader(child, lines);
  const first = (await next()) as { url?: string } | undefined;
  if (!first?.url) {
    child.kill('SIGKILL');
    throw new Error('the Snowflake stand-in did not start (its errors are above)');
  }
  return {
    env: { ...sf, SNOWFLAKE_ACCESS_URL: first.url },
    async stop() {
      child.kill('SIGTERM');
      const last = (await next()) as { stats?: StandInStats } | undefined;
      return last?.stats;
    },
  };
}

/** The next JSON line the process prints; undefined when it exits first. */
function lineReader(child: ChildProcess, lines: ReturnType<typeof createInterface>): () => Promise<unknown> {
  const queue: string[] = [];
  const waiting: Array<(l: string | undefined) => void> = [];
  let closed = false;
  lines.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)));
  const end = () => {
    closed = true;
    while (waiting.length) waiting.shift()!(undefined);
  };
  lines.on('close', end);
  child.on('exit', end);
  return async () => {
    const l = queue.length ? queue.shift() : closed ? undefined : await new Promise<string | undefined>((r) => waiting.push(r));
    if (l === undefined) return undefined;
    try {
      return JSON.parse(l) as unknown;
    } catch {
      return undefined;
    }
  };
}

// One run of the real job as a child process, as ECS runs it: the program's entry point with
// POSTGRES_*, DUCKDB_PATH, AS_OF, TIMEZONE=UTC and RUN_REPORT_PATH. Its peak RSS is read from
// /proc/<pid>/status (VmHWM) until it exits; the PostgreSQL server's resident memory is sampled
// alongside. Steps, rows and statistics come from the run report.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeOptionsFor } from '../deploy/heap.js';
import { REFERENCE } from '../deploy/settings.js';
import type { RunReport } from '../report/report.js';
import { childPids, PeakSampler, postgresResidentMb, procStatus } from './memory.js';
import type { BenchServer } from './server.js';

/** The repository root (src/bench/ or dist/bench/ are two levels down). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'conflict-updater.js');

/**
 * How the job is started: the entry point (TypeScript sources through tsx in a checkout), this
 * checkout compiled into .bench/dist, or another revision compiled elsewhere (bench --compare-with).
 */
export type Program = 'source' | 'dist' | CompiledRevision;

export interface CompiledRevision {
  readonly dist: string;
  readonly label: string;
}

export function programLabel(program: Program): string {
  return typeof program === 'string' ? program : program.label;
}

/** The preload that applies BENCH_DUCKDB_SETTINGS to every DuckDB instance. */
const DUCKDB_PRELOAD = new URL(`file://${join(ROOT, 'scripts', 'bench-duckdb-settings.mjs')}`).href;

const hasSettings = (settings: Readonly<Record<string, string>> | undefined): boolean => settings !== undefined && Object.keys(settings).length > 0;

/** `--import` of the DuckDB preload, when there are settings. */
export function duckdbPreload(settings: Readonly<Record<string, string>> | undefined): string[] {
  return hasSettings(settings) ? ['--import', DUCKDB_PRELOAD] : [];
}

/**
 * NODE_OPTIONS of the job: the task definition's, plus the DuckDB preload when settings are given.
 * Through NODE_OPTIONS the preload also reaches the job's DuckDB process, which is forked with
 * no command-line flags of its own (src/warehouse/duckdbProcess.ts).
 */
function jobNodeOptions(duckdb: Readonly<Record<string, string>> | undefined): string {
  return hasSettings(duckdb) ? `${taskNodeOptions()} --import=${DUCKDB_PRELOAD}` : taskNodeOptions();
}

/** `--import` of the preload that samples the job's V8 heap from inside (BENCH_MEMORY_PROBE). */
export function memoryProbePreload(): string[] {
  return ['--import', new URL(`file://${join(ROOT, 'scripts', 'bench-memory-probe.mjs')}`).href];
}

/** What the memory probe writes when the job exits (scripts/bench-memory-probe.mjs), MB. */
export interface JobMemory {
  readonly peakRssMb: number;
  readonly peakHeapUsedMb: number;
  readonly peakHeapTotalMb: number;
  readonly peakExternalMb: number;
  readonly peakArrayBuffersMb: number;
  readonly heapSizeLimitMb: number;
  readonly garbageCollections: number;
  /** User + system CPU time of the job process. */
  readonly cpuSeconds: number;
}

/** The driver's chunk parsing, from the job's log line (src/warehouse/snowflake.ts). */
export interface ChunkParse {
  readonly chunks: number;
  readonly megabytes: number;
  readonly rows: number;
  readonly seconds: number;
}

/**
 * Where `dist` runs from: the bench compiles the sources itself into .bench/dist (never a shared
 * dist/ that may be stale), incrementally, before it runs anything (buildProgram).
 */
export const BENCH_DIST = join(ROOT, '.bench', 'dist');

export function programArgs(program: Program, args: string[], preload: string[] = []): string[] {
  if (program === 'source') return [...preload, BIN, ...args];
  const cli = join(program === 'dist' ? BENCH_DIST : program.dist, 'cli.js');
  if (!existsSync(cli)) throw new Error(`no compiled program at ${cli}`);
  // What bin/conflict-updater.js does in the container, without the source check.
  const code =
    `const { main } = await import(${JSON.stringify(new URL(`file://${cli}`).href)});` +
    `const c = await main(process.argv.slice(1)); process.stdout.write('', () => process.exit(c));`;
  return [...preload, '--input-type=module', '-e', code, ...args];
}

/**
 * Compile src/ (or another revision's, bench --compare-with) into .bench/dist: each file transpiled on its own (esbuild, as tsx does at run time,
 * ahead of time; under a second), else with tsc when esbuild is not installed. Types are not
 * checked here (npm run typecheck is where they count).
 */
export async function buildProgram(log: (m: string) => void, srcDir = join(ROOT, 'src'), outDir = BENCH_DIST): Promise<void> {
  const t0 = performance.now();
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(srcDir, f));
  let how: string;
  try {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    rmSync(outDir, { recursive: true, force: true });
    await esbuild.build({ entryPoints: files, outdir: outDir, outbase: srcDir, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' });
    how = 'esbuild';
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    if (srcDir !== join(ROOT, 'src')) throw new Error(`compiling ${srcDir} needs esbuild (tsc compiles this checkout only)`);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const child = spawn(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'], { cwd: ROOT, stdio: 'ignore' });
    await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', resolve);
    });
    how = 'tsc';
  }
  if (!existsSync(join(outDir, 'cli.js'))) throw new Error(`compiling the program into ${outDir} failed`);
  // The files are ES modules by the repository's package.json ("type": "module"), two levels up.
  log(`Program: ${files.length} files compiled into ${outDir} by ${how} (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
}

export interface JobRunInput {
  readonly server: BenchServer;
  readonly database: string;
  readonly duckdbPath: string;
  readonly asOf: string;
  readonly reportPath: string;
  readonly logPath: string;
  readonly program: Program;
  readonly action?: string;
  /** Extra variables (BATCH_SIZE, LOG_LEVEL…), applied last. */
  readonly env?: Readonly<Record<string, string>>;
  /** DuckDB settings for every instance the process creates (bench --duckdb). */
  readonly duckdb?: Readonly<Record<string, string>>;
}

export interface JobRunResult {
  readonly exitCode: number | null;
  /** Wall time of the process, start to exit. */
  readonly wallSeconds: number;
  /** Peak RSS of the job process (VmHWM), MB. */
  readonly peakRssMb: number;
  /** The step the job's log says was running when its RSS peaked. */
  readonly peakStep: string | undefined;
  /** Peak RSS of the job's child processes (the DuckDB process, duckdbProcess.ts), MB; 0: none. */
  readonly childPeakRssMb: number;
  /** Peak resident memory of the PostgreSQL server during the run, MB (undefined: not local). */
  readonly postgresPeakMb: number | undefined;
  readonly report: RunReport | undefined;
  readonly logPath: string;
  /** The job's V8 heap and RSS as seen from inside; undefined when the probe wrote nothing. */
  readonly memory: JobMemory | undefined;
  /** Snowflake only: result chunks the driver parsed and the time it took. */
  readonly chunkParse: ChunkParse | undefined;
}

/** The `Snowflake result chunks: …` line of a job's log. */
export function chunkParseFromLog(text: string): ChunkParse | undefined {
  const m = /Snowflake result chunks: ([\d,]+) parsed \(([\d,]+) MB of JSON, ([\d,]+) rows\) in ([\d.]+)s/.exec(text);
  if (!m) return undefined;
  const n = (s: string) => Number(s.replace(/,/g, ''));
  return { chunks: n(m[1]), megabytes: n(m[2]), rows: n(m[3]), seconds: Number(m[4]) };
}

/** The last `<step>: started` line of the log at or before `at` (the log's stamps are UTC). */
async function stepAt(logPath: string, at: number): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(logPath, 'utf8');
  } catch {
    return undefined;
  }
  let step: string | undefined;
  for (const m of text.matchAll(/^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) INFO\s+(.+): started$/gm)) {
    if (Date.parse(`${m[1].replace(' ', 'T')}Z`) > at) break;
    step = m[2];
  }
  return step;
}

/** The task size the benchmark stands for: the reference task definition's memory (MiB). */
export const BENCH_TASK_MEMORY_MIB = Number(REFERENCE.memory);

/** NODE_OPTIONS of a task of the bench's size, as the task definition sets it (src/deploy/heap.ts). */
export function taskNodeOptions(taskMemoryMiB = BENCH_TASK_MEMORY_MIB): string {
  return nodeOptionsFor(taskMemoryMiB);
}

export function jobEnv(input: JobRunInput): NodeJS.ProcessEnv {
  const s = input.server;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_OPTIONS: jobNodeOptions(input.duckdb),
    POSTGRES_HOST: s.host,
    POSTGRES_PORT: String(s.port),
    POSTGRES_USER: s.user,
    POSTGRES_PASSWORD: s.password,
    POSTGRES_DATABASE: input.database,
    POSTGRES_SSLMODE: 'disable',
    ENVIRONMENT: 'dev',
    DUCKDB_PATH: input.duckdbPath,
    AS_OF: input.asOf,
    TIMEZONE: 'UTC',
    RUN_REPORT_PATH: input.reportPath,
    LOG_LEVEL: 'INFO',
    ...(hasSettings(input.duckdb) ? { BENCH_DUCKDB_SETTINGS: JSON.stringify(input.duckdb) } : {}),
    ...(input.env ?? {}),
  };
}

export async function runJob(input: JobRunInput): Promise<JobRunResult> {
  mkdirSync(dirname(input.logPath), { recursive: true });
  mkdirSync(dirname(input.reportPath), { recursive: true });
  const log = createWriteStream(input.logPath);
  const probePath = input.reportPath.replace(/\.json$/, '') + '.memory.json';
  rmSync(probePath, { force: true });
  const t0 = performance.now();
  const preload = memoryProbePreload();
  const child = spawn(process.execPath, programArgs(input.program, [input.action ?? 'task02_00_run_conflict_update'], preload), {
    cwd: ROOT,
    env: { ...jobEnv(input), BENCH_MEMORY_PROBE: probePath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  let hwm = 0;
  // When the job's RSS peaked (wall clock), to name the step that was running then.
  let peakRss = 0;
  let peakAt = Date.now();
  const job = new PeakSampler(() => {
    const s = pid === undefined ? undefined : procStatus(pid);
    if (s) {
      hwm = Math.max(hwm, s.hwmMb);
      if (s.rssMb > peakRss) {
        peakRss = s.rssMb;
        peakAt = Date.now();
      }
    }
    return s?.hwmMb;
  }, 50);
  // The DuckDB process the job starts: its VmHWM, read while it lives.
  const childHwm = new Map<number, number>();
  const children = new PeakSampler(() => {
    if (pid === undefined) return undefined;
    for (const c of childPids(pid)) {
      const st = procStatus(c);
      if (st) childHwm.set(c, Math.max(childHwm.get(c) ?? 0, st.hwmMb));
    }
    return Math.max(0, ...childHwm.values());
  }, 100);
  const pm = input.server.postmasterPid;
  const pgPeak = pm === undefined ? undefined : new PeakSampler(() => postgresResidentMb(pm), 200);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      job.sample();
      resolve(code);
    });
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  const peakRssMb = Math.max(hwm, job.stop());
  const postgresPeakMb = pgPeak?.stop();
  const childPeakRssMb = children.stop();
  await new Promise<void>((resolve) => log.end(resolve));
  let report: RunReport | undefined;
  try {
    report = JSON.parse(await readFile(input.reportPath, 'utf8')) as RunReport;
  } catch {
    report = undefined;
  }
  const peakStep = await stepAt(input.logPath, peakAt);
  let memory: JobMemory | undefined;
  try {
    memory = JSON.parse(await readFile(probePath, 'utf8')) as JobMemory;
  } catch {
    memory = undefined;
  }
  const chunkParse = chunkParseFromLog(await readFile(input.logPath, 'utf8').catch(() => ''));
  return { exitCode, wallSeconds, peakRssMb, peakStep, childPeakRssMb, postgresPeakMb, report, logPath: input.logPath, memory, chunkParse };
}

// `bench --profile P`: the benchmark of performance.md.
//
// Cached under .bench/ (gitignored), built on first use or with --rebuild:
//   .bench/<profile>-s<seed>/warehouse.duckdb   the generated warehouse (generateWarehouse)
//   .bench/<profile>-s<seed>/*.copy             the rows the PostgreSQL baseline COPYs
//   .bench/postgres/                            the embedded PostgreSQL (unless BENCH_POSTGRES_URL)
//   database bench_tpl_<profile>_s<seed>        the prior target state (prior.ts)
// Every timed run clones the template (CREATE DATABASE … TEMPLATE) and runs the job once as a
// child process; the engine baselines run in the same bench invocation.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateWarehouse, PLACEHOLDER_SSNS } from '../generate/generate.js';
import { writeJsonAtomic } from '../report/report.js';
import { statisticLabel, type StatisticName } from '../report/statistics.js';
import { duckdbBaseline, postgresBaseline, type DuckDbBaseline, type ExportFiles, type PostgresBaseline } from './baseline.js';
import { cpuGaugeMs } from './cpuGauge.js';
import { compareWithRevision, comparisonLines, endStateDigests, serverNow, TARGET_SCHEMA, type Comparison } from './compare.js';
import { BENCH_TASK_MEMORY_MIB, buildProgram, programLabel, ROOT, taskNodeOptions, runJob, type ChunkParse, type JobMemory, type JobRunResult, type Program } from './job.js';
import type { BenchOptions, BenchWarehouse } from './options.js';
import { startStandIn, type StandIn, type StandInStats } from './standIn.js';
import { EXCLUDED_SSNS, initPrior, PRIOR_RECIPE, shapePrior, type PriorShape } from './prior.js';
import { cloneDatabase, databaseExists, dropDatabase, startBenchServer, type BenchServer } from './server.js';
import { renderMemory, renderTable, round, stepResults, type StepResult } from './table.js';

const say = (m: string) => process.stdout.write(`${m}\n`);

interface WarehouseManifest {
  profile: string;
  seed: number;
  asOf: string;
  generator: string;
  visits: number;
  changedVisits: number;
  seconds: number;
  builtAt: string;
}

interface PriorManifest {
  recipe: number;
  warehouseBuiltAt: string;
  database: string;
  shape: PriorShape;
  firstRun: Record<string, number>;
  builtAt: string;
}

/** A digest of the generator's sources: a changed generator means a new warehouse. */
function generatorDigest(): string {
  const dir = join(ROOT, 'src', 'generate');
  const hash = createHash('sha256');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.ts')) hash.update(f).update(readFileSync(join(dir, f)));
  }
  return hash.digest('hex').slice(0, 16);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Each key's smaller value. */
function minEach<T extends Record<string, number>>(a: T, b: T): T {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? Math.min(out[k], v) : v;
  return out as T;
}

/** Read a file once, to nothing: its pages are then in the cache for every measurement alike. */
async function warmUp(path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) void chunk;
}

function machine(): { nproc: number; memoryGb: number; cpu: string; node: string; loadavg: number[] } {
  const c = cpus();
  return { nproc: c.length, memoryGb: round(totalmem() / 2 ** 30, 1), cpu: c[0]?.model ?? 'unknown', node: process.version, loadavg: loadavg().map((l) => round(l, 2)) };
}

async function ensureWarehouse(opts: BenchOptions, dir: string): Promise<WarehouseManifest> {
  const path = join(dir, 'warehouse.duckdb');
  const manifestPath = join(dir, 'warehouse.json');
  const digest = generatorDigest();
  const m = readJson<WarehouseManifest>(manifestPath);
  if (!opts.rebuild && m && existsSync(path) && m.asOf === opts.asOf) {
    say(`Warehouse: cached ${path} (${m.visits.toLocaleString('en-US')} visits, built ${m.builtAt})`);
    // Regenerating costs minutes (prod): only on request.
    if (m.generator !== digest) say('  note: src/generate changed since it was built; --rebuild generates it (and the prior state) again');
    return m;
  }
  for (const f of readdirSync(dir)) if (f.endsWith('.copy') || f.startsWith('warehouse.')) rmSync(join(dir, f), { force: true });
  say(`Warehouse: generating ${opts.profile} (seed ${opts.seed}, as of ${opts.asOf})`);
  const s = await generateWarehouse({ profile: opts.profile, seed: opts.seed, out: path, asOf: opts.asOf, onProgress: (msg) => say(`  ${msg}`) });
  const manifest: WarehouseManifest = {
    profile: opts.profile,
    seed: opts.seed,
    asOf: opts.asOf,
    generator: digest,
    visits: s.visits,
    changedVisits: s.changedVisits,
    seconds: s.seconds,
    builtAt: new Date().toISOString(),
  };
  await writeJsonAtomic(manifestPath, manifest);
  return manifest;
}

function firstRunStats(r: JobRunResult): Record<string, number> {
  const st = r.report?.statistics ?? {};
  const pick: StatisticName[] = ['affectedGroups', 'changedVisits', 'candidatesPartA', 'candidatesPartB', 'detectedRows', 'detected', 'inserted'];
  return Object.fromEntries(pick.filter((k) => k in st).map((k) => [k, st[k]]));
}

async function ensurePrior(
  opts: BenchOptions,
  dir: string,
  server: BenchServer,
  wh: WarehouseManifest,
  program: Program,
): Promise<PriorManifest> {
  const empty = opts.prior === 'empty';
  const tpl = `bench_tpl_${opts.profile}_s${opts.seed}${empty ? '_empty' : ''}`;
  const manifestPath = join(dir, empty ? 'prior-empty.json' : 'prior.json');
  const m = readJson<PriorManifest>(manifestPath);
  const admin = await server.connect();
  try {
    if (!opts.rebuild && m && m.recipe === PRIOR_RECIPE && m.warehouseBuiltAt === wh.builtAt && (await databaseExists(admin, tpl))) {
      say(`Prior state: cached template ${tpl} (${m.shape.tableRows.toLocaleString('en-US')} conflictvisitmaps rows, built ${m.builtAt})`);
      return m;
    }
    say(`Prior state: building template ${tpl}`);
    const build = `${tpl}_build`;
    await dropDatabase(admin, build);
    await admin.query(`CREATE DATABASE ${build}`);
    const c = await server.connect(build);
    try {
      await initPrior(c, opts.profile, PLACEHOLDER_SSNS);
    } finally {
      await c.end();
    }
    if (empty) {
      // The schema and reference data only: the state of the first run below.
      await dropDatabase(admin, tpl);
      await admin.query(`ALTER DATABASE ${build} RENAME TO ${tpl}`);
      const shape: PriorShape = { tableRows: 0, stale: 0, excludedSsns: EXCLUDED_SSNS[opts.profile] ?? 0, excludedAgencies: 3 };
      const manifest: PriorManifest = { recipe: PRIOR_RECIPE, warehouseBuiltAt: wh.builtAt, database: tpl, shape, firstRun: {}, builtAt: new Date().toISOString() };
      await writeJsonAtomic(manifestPath, manifest);
      say('Prior state: empty (schema and reference data only)');
      return manifest;
    }
    const t0 = performance.now();
    const first = await runJob({
      server,
      database: build,
      duckdbPath: join(dir, 'warehouse.duckdb'),
      asOf: opts.asOf,
      reportPath: join(dir, 'runs', 'prior-first-run.json'),
      logPath: join(dir, 'runs', 'prior-first-run.log'),
      program,
      duckdb: opts.duckdb,
    });
    if (first.exitCode !== 0) throw new Error(`the job's first run (building the prior state) failed with exit ${first.exitCode}: see ${first.logPath}`);
    const stats = firstRunStats(first);
    say(`  first run of the job: ${((performance.now() - t0) / 1000).toFixed(1)}s, ${JSON.stringify(stats)}`);
    const c2 = await server.connect(build);
    let shape: PriorShape;
    try {
      shape = await shapePrior(c2, opts.profile, say);
    } finally {
      await c2.end();
    }
    await dropDatabase(admin, tpl);
    await admin.query(`ALTER DATABASE ${build} RENAME TO ${tpl}`);
    const manifest: PriorManifest = { recipe: PRIOR_RECIPE, warehouseBuiltAt: wh.builtAt, database: tpl, shape, firstRun: stats, builtAt: new Date().toISOString() };
    await writeJsonAtomic(manifestPath, manifest);
    say(`Prior state: ${shape.tableRows.toLocaleString('en-US')} conflictvisitmaps rows (${shape.stale.toLocaleString('en-US')} stale)`);
    return manifest;
  } finally {
    await admin.end();
  }
}

export interface BenchResult {
  profile: string;
  seed: number;
  asOf: string;
  program: Program;
  machine: ReturnType<typeof machine>;
  /** The job's wall time (process start to exit) of the best run. */
  totalSeconds: number;
  /** Peak RSS of the job process in that run, MB. */
  peakRssMb: number;
  /** The step running when it peaked. */
  peakRssStep: string | null;
  postgresPeakMb: number | null;
  /** Peak RSS of the job's DuckDB process (duckdbProcess.ts), MB. */
  duckdbPeakMb: number | null;
  duckdbBaselinePeakMb: number | null;
  steps: StepResult[];
  statistics: Record<string, number>;
  /** cpuGaugeMs: the fixed workload of cpuGauge.ts timed just before the run (lower is faster). */
  runs: Array<{ totalSeconds: number; peakRssMb: number; duckdbPeakMb: number; reportSeconds: number | null; loadavg: number[]; cpuGaugeMs: number }>;
  medianSeconds: number;
  baselines: { duckdb: DuckDbBaseline | null; postgres: PostgresBaseline | null };
  prior: PriorManifest;
  warehouse: WarehouseManifest;
  jobEnv: Record<string, string>;
  duckdbSettings: Record<string, string>;
  /** --compare-with: this program's results against the revision's. */
  comparison: Comparison | null;
  /** The warehouse the timed runs went through (bench --warehouse). */
  through: BenchWarehouse;
  /** The job process's own memory in the best run, seen from inside (V8 heap). */
  memory: JobMemory | null;
  /** Through the driver: result chunks parsed and the time it took (best run). */
  chunkParse: ChunkParse | null;
  /** What the Snowflake stand-in served in the best run. */
  standIn: StandInStats | null;
  /** snowflake-stand-in: the DuckDB path's run on the same prior state, for its memory side by side. */
  duckdbPathRun: { totalSeconds: number; peakRssMb: number; memory: JobMemory | null } | null;
}

export async function runBench(opts: BenchOptions, program: Program): Promise<BenchResult> {
  const benchDir = join(ROOT, '.bench');
  const dir = join(benchDir, `${opts.profile}-s${opts.seed}`);
  mkdirSync(dir, { recursive: true });
  const extra = [...Object.entries(opts.duckdb).map(([k, v]) => `duckdb ${k}=${v}`), ...Object.entries(opts.jobEnv).map(([k, v]) => `${k}=${v}`)];
  say(`bench ${opts.profile} (seed ${opts.seed}, AS_OF ${opts.asOf}), program: ${programLabel(program)}${extra.length ? `, ${extra.join(', ')}` : ''}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const nodeOptions = opts.jobEnv.NODE_OPTIONS ?? taskNodeOptions();
  say(`Job: NODE_OPTIONS=${nodeOptions}${opts.jobEnv.NODE_OPTIONS ? '' : ` (the task definition's for ${BENCH_TASK_MEMORY_MIB} MiB, src/deploy/heap.ts)`}`);
  if (program === 'dist') await buildProgram(say);
  const wh = await ensureWarehouse(opts, dir);
  const server = await startBenchServer(benchDir, say);
  try {
    const prior = await ensurePrior(opts, dir, server, wh, program);
    const runDb = `bench_run_${opts.profile}_s${opts.seed}`;
    const duckdbPath = join(dir, 'warehouse.duckdb');
    const admin = await server.connect();
    let duck: DuckDbBaseline | undefined;
    let pgBase: PostgresBaseline | undefined;
    try {
      // The warehouse file into the page cache first, so the first measurement does not pay for the disk.
      await warmUp(duckdbPath);
      if (!opts.noBaseline) {
        // The groups and ids of open rows depend on the prior state too.
        const exports: ExportFiles = {
          detected: join(dir, 'detected.copy'),
          groups: join(dir, `groups-by-ssn.${prior.database}.copy`),
          scope: join(dir, `scope.${prior.database}.copy`),
        };
        // As many baseline measurements as job runs; each step's best counts (the machine is shared).
        for (let i = 1; i <= opts.runs; i++) {
          say(`Baseline ${i}/${opts.runs}: DuckDB, the same statements in a fresh session`);
          const d = await duckdbBaseline(
            { server, database: prior.database, duckdbPath, asOf: opts.asOf, program, env: opts.jobEnv, duckdb: opts.duckdb, specPath: join(dir, 'runs', 'duckdb-baseline.json'), exports },
            program,
          );
          say(`  ${Object.entries(d.seconds).map(([k, v]) => `${k} ${v.toFixed(2)}s`).join(', ')}; peak RSS ${d.peakRssMb.toFixed(0)} MB`);
          duck = duck ? { ...duck, seconds: minEach(duck.seconds, d.seconds), peakRssMb: Math.max(duck.peakRssMb, d.peakRssMb) } : d;
          say(`Baseline ${i}/${opts.runs}: PostgreSQL COPY of the same rows into empty tables`);
          await cloneDatabase(admin, prior.database, runDb);
          const c = await server.connect(runDb);
          try {
            const p = await postgresBaseline(c, exports);
            pgBase = pgBase ? { ...pgBase, seconds: minEach(pgBase.seconds, p.seconds) } : p;
            say(`  detected ${p.seconds.detected.toFixed(2)}s, groups ${p.seconds.groups.toFixed(2)}s, scope ${p.seconds.scope.toFixed(2)}s`);
          } finally {
            await c.end();
          }
        }
      }
      const runs: JobRunResult[] = [];
      /** The machine just before each timed run, in run order. */
      const machineBefore: Array<{ loadavg: number[]; cpuGaugeMs: number }> = [];
      let hereEndState: Record<string, string[]> = {};
      const standInStats: StandInStats[] = [];
      /**
       * One timed run of the job on a fresh clone of the prior state, through `warehouse`;
       * `keepEndState`: the end state is digested for --compare-with.
       */
      const timedRun = async (label: string, warehouse: BenchWarehouse, keepEndState = false): Promise<JobRunResult> => {
        await cloneDatabase(admin, prior.database, runDb);
        if (opts.explainMs !== undefined) {
          for (const set of [
            `session_preload_libraries = 'auto_explain'`,
            `auto_explain.log_min_duration = ${opts.explainMs}`,
            `auto_explain.log_analyze = on`,
            `auto_explain.log_buffers = on`,
            `auto_explain.log_nested_statements = on`,
            `log_min_duration_statement = ${opts.explainMs}`,
          ]) {
            await admin.query(`ALTER DATABASE ${runDb} SET ${set}`);
          }
        }
        server.takeLog();
        // A checkpoint now, so the clone's writes are not flushed during the timed run.
        await admin.query('CHECKPOINT');
        const since = await serverNow(admin);
        const now = { loadavg: loadavg().map((l) => round(l, 2)), cpuGaugeMs: cpuGaugeMs() };
        const state = `load average ${now.loadavg.join(' ')}, CPU gauge ${now.cpuGaugeMs} ms`;
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const input = {
          server,
          database: runDb,
          duckdbPath,
          asOf: opts.asOf,
          reportPath: join(dir, 'runs', `${stamp}.json`),
          logPath: join(dir, 'runs', `${stamp}.log`),
          program,
          env: opts.jobEnv,
          duckdb: opts.duckdb,
        };
        let standIn: StandIn | undefined;
        if (warehouse === 'snowflake-stand-in') {
          standIn = await startStandIn(input, join(dir, 'runs', `${stamp}.stand-in.json`));
          say(`${label}: the job through snowflake-sdk against the Snowflake stand-in (${standIn.env.SNOWFLAKE_ACCESS_URL}, its own process), fresh clone of the prior state (${state})`);
        } else {
          say(`${label}: the job on a fresh clone of the prior state (${state})`);
        }
        let r: JobRunResult;
        try {
          r = await runJob({ ...input, env: { ...opts.jobEnv, ...(standIn?.env ?? {}) } });
        } finally {
          const stats = await standIn?.stop();
          if (stats) standInStats.push(stats);
        }
        const pgLog = server.takeLog();
        if (opts.explainMs !== undefined) {
          const path = r.logPath.replace(/\.log$/, '.postgres.log');
          writeFileSync(path, pgLog.join('\n') + '\n');
          say(`  PostgreSQL statements ≥ ${opts.explainMs} ms with their plans: ${path}`);
        }
        if (r.exitCode !== 0) throw new Error(`the job failed with exit ${r.exitCode}: see ${r.logPath}`);
        if (keepEndState) {
          const c = await server.connect(runDb);
          try {
            hereEndState = await endStateDigests(c, TARGET_SCHEMA, since);
          } finally {
            await c.end();
          }
        }
        const heap = r.memory ? `, V8 heap peak ${r.memory.peakHeapUsedMb.toFixed(0)} MB used / ${r.memory.peakHeapTotalMb.toFixed(0)} MB committed (limit ${r.memory.heapSizeLimitMb.toFixed(0)} MB)` : '';
        const parse = r.chunkParse ? `; driver parsed ${r.chunkParse.chunks.toLocaleString('en-US')} result chunks (${r.chunkParse.megabytes.toLocaleString('en-US')} MB of JSON) in ${r.chunkParse.seconds.toFixed(1)}s` : '';
        say(`  ${r.wallSeconds.toFixed(2)}s, peak RSS ${r.peakRssMb.toFixed(0)} MB${r.peakStep ? ` (during ${r.peakStep})` : ''}${heap}${r.childPeakRssMb > 0 ? `, its DuckDB process ${r.childPeakRssMb.toFixed(0)} MB` : ''}${parse} (log ${r.logPath})`);
        machineBefore.push(now);
        return r;
      };
      for (let i = 1; i <= opts.runs; i++) runs.push(await timedRun(`Run ${i}/${opts.runs}`, opts.warehouse, i === 1 && opts.compareWith !== undefined));
      // The DuckDB path once more, for its memory next to the driver's.
      const duckdbRun = opts.warehouse === 'snowflake-stand-in' && opts.compare ? await timedRun('Comparison run', 'duckdb') : undefined;
      const comparison = opts.compareWith
        ? await compareWithRevision({
            server,
            admin,
            template: prior.database,
            runDb,
            duckdbPath,
            asOf: opts.asOf,
            dir,
            here: program,
            hereEndState,
            hereStatistics: runs[0].report?.statistics ?? {},
            env: opts.jobEnv,
            duckdb: opts.duckdb,
            revision: opts.compareWith,
            say,
          })
        : undefined;
      await dropDatabase(admin, runDb);
      const best = runs.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
      const sorted = runs.map((r) => r.wallSeconds).sort((a, b) => a - b);
      const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      const steps = stepResults(best.report?.steps ?? [], duck, pgBase);
      const result: BenchResult = {
        profile: opts.profile,
        seed: opts.seed,
        asOf: opts.asOf,
        program,
        machine: machine(),
        totalSeconds: round(best.wallSeconds, 3),
        peakRssMb: round(best.peakRssMb, 1),
        peakRssStep: best.peakStep ?? null,
        postgresPeakMb: best.postgresPeakMb === undefined ? null : round(best.postgresPeakMb, 1),
        duckdbPeakMb: best.childPeakRssMb > 0 ? round(best.childPeakRssMb, 1) : null,
        duckdbBaselinePeakMb: duck ? round(duck.peakRssMb, 1) : null,
        steps,
        statistics: best.report?.statistics ?? {},
        runs: runs.map((r, i) => ({
          totalSeconds: round(r.wallSeconds, 3),
          peakRssMb: round(r.peakRssMb, 1),
          duckdbPeakMb: round(r.childPeakRssMb, 1),
          reportSeconds: r.report?.durationSeconds ?? null,
          ...machineBefore[i],
        })),
        medianSeconds: round(median, 3),
        baselines: { duckdb: duck ?? null, postgres: pgBase ?? null },
        prior,
        warehouse: wh,
        jobEnv: { NODE_OPTIONS: nodeOptions, ...opts.jobEnv },
        duckdbSettings: opts.duckdb,
        comparison: comparison ?? null,
        through: opts.warehouse,
        memory: best.memory ?? null,
        chunkParse: best.chunkParse ?? null,
        standIn: standInStats[runs.indexOf(best)] ?? null,
        duckdbPathRun: duckdbRun
          ? { totalSeconds: round(duckdbRun.wallSeconds, 3), peakRssMb: round(duckdbRun.peakRssMb, 1), memory: duckdbRun.memory ?? null }
          : null,
      };
      say('');
      say(
        `${opts.profile}: ${wh.visits.toLocaleString('en-US')} visits; conflictvisitmaps ${prior.shape.tableRows.toLocaleString('en-US')} rows; ` +
          `${runs.length > 1 ? `best of ${runs.length} runs (median ${median.toFixed(2)}s)` : 'one run'}`,
      );
      say(
        renderTable(steps, {
          totalSeconds: best.wallSeconds,
          jobSeconds: best.report?.durationSeconds ?? best.wallSeconds,
          peakRssMb: best.peakRssMb,
          postgresPeakMb: best.postgresPeakMb,
          jobDuckdbPeakMb: best.childPeakRssMb > 0 ? best.childPeakRssMb : undefined,
          duckdbPeakMb: duck?.peakRssMb,
          duckdbIdleMb: duck?.idleRssMb,
          throughStandIn: opts.warehouse === 'snowflake-stand-in',
        }),
      );
      say(renderMemory(opts.warehouse, best, duckdbRun));
      const st = result.statistics;
      const shown: StatisticName[] = ['affectedGroups', 'detected', 'matched', 'new', 'updated', 'inserted', 'staleResolved', 'exclusionResolved'];
      say(shown.map((n) => `${statisticLabel(n)} ${(st[n] ?? 0).toLocaleString('en-US')}`).join(', '));
      if (comparison) for (const l of comparisonLines(comparison)) say(l);
      if (opts.json) {
        await writeJsonAtomic(opts.json, result);
        say(`JSON: ${opts.json}`);
      }
      return result;
    } finally {
      await admin.end();
    }
  } finally {
    await server.stop();
  }
}

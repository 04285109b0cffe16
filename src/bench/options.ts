// `bench` arguments (operations.md: `bench --profile P --json FILE`).
import { ConfigError } from '../errors.js';
import type { Profile } from '../generate/profiles.js';
import { parseArgs } from '../tools/args.js';

export interface BenchOptions {
  readonly profile: Profile;
  readonly seed: number;
  /** Where the JSON result goes (operations.md); none: only the table is printed. */
  readonly json: string | undefined;
  /** Throw the cached warehouse and prior target state away and build them again. */
  readonly rebuild: boolean;
  /** Timed runs of the job (each on a fresh clone of the prior state); the table shows the best. */
  readonly runs: number;
  /** Skip the engine baselines (faster; no ratios). */
  readonly noBaseline: boolean;
  /** The job's run instant T: the warehouse is generated around it (cached per value). */
  readonly asOf: string;
  /** Extra environment for the job process (`--env NAME=VALUE`, repeatable): to compare settings. */
  readonly jobEnv: Readonly<Record<string, string>>;
  /** `dist` (default): compiled into .bench/dist first; `source`: the entry point (tsx in a checkout). */
  readonly program: 'source' | 'dist';
  /**
   * Profile the timed run: every PostgreSQL statement of the job slower than this many ms is
   * logged with its plan (auto_explain, EXPLAIN ANALYZE) into the run's directory.
   */
  readonly explainMs: number | undefined;
  /** DuckDB settings (`--duckdb memory_limit=1GB`, repeatable) for the job's and the baseline's DuckDB. */
  readonly duckdb: Readonly<Record<string, string>>;
  /**
   * A git revision whose program runs once more after the timed runs, on the same prior state:
   * its detected rows and end state are compared with this program's (compare.ts).
   */
  readonly compareWith: string | undefined;
  /**
   * The warehouse the timed runs go through: `duckdb` (the local path) or `snowflake-stand-in`
   * (snowflake-sdk against the stand-in of Snowflake's HTTP service, running the DuckDB twins; then
   * one DuckDB-path run follows, for the memory figures side by side).
   */
  readonly warehouse: BenchWarehouse;
  /** snowflake-stand-in: also run the DuckDB path once, for its memory beside the driver's (default). */
  readonly compare: boolean;
  /**
   * The target state the runs start from: `shaped` (production-shaped conflictvisitmaps, built
   * once: ~30 min for prod) or `empty` (the schema and reference data only: the first run's state,
   * in seconds; the warehouse streams and their memory are the same, the merge has less to do).
   */
  readonly prior: 'shaped' | 'empty';
}

export type BenchWarehouse = 'duckdb' | 'snowflake-stand-in';

/** The fixed run instant of the benchmark data (a Saturday mid-day, as the production run). */
export const BENCH_AS_OF = '2026-02-14 12:00:00';

export const BENCH_USAGE =
  'usage: conflict-updater bench --profile small|medium|prod [--json FILE] [--seed N] [--rebuild] [--runs N] [--no-baseline] [--program source|dist] [--explain MS] [--compare-with REV] [--duckdb NAME=VALUE]… [--env NAME=VALUE]… [--warehouse duckdb|snowflake-stand-in] [--no-compare] [--prior shaped|empty]';

export function parseBenchArgs(argv: string[]): BenchOptions {
  // --env may repeat: collect it before the generic parser sees the rest.
  const jobEnv: Record<string, string> = {};
  const duckdb: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duckdb' || a.startsWith('--duckdb=')) {
      const v = a === '--duckdb' ? argv[++i] : a.slice('--duckdb='.length);
      const m = v === undefined ? null : /^([a-z_]+)=(.+)$/s.exec(v);
      if (!m) throw new ConfigError(`--duckdb needs NAME=VALUE, a DuckDB setting (got "${v ?? ''}")`);
      duckdb[m[1]] = m[2];
    } else if (a === '--env' || a.startsWith('--env=')) {
      const v = a === '--env' ? argv[++i] : a.slice('--env='.length);
      const m = v === undefined ? null : /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(v);
      if (!m) throw new ConfigError(`--env needs NAME=VALUE (got "${v ?? ''}")`);
      jobEnv[m[1]] = m[2];
    } else rest.push(a);
  }
  const a = parseArgs(rest, {
    profile: 'string',
    seed: 'string',
    json: 'string',
    rebuild: 'boolean',
    runs: 'string',
    'no-baseline': 'boolean',
    'as-of': 'string',
    program: 'string',
    explain: 'string',
    'compare-with': 'string',
    warehouse: 'string',
    'no-compare': 'boolean',
    prior: 'string',
    help: 'boolean',
  });
  if (a.help) throw new ConfigError(BENCH_USAGE);
  const profile = String(a.profile ?? 'small') as Profile;
  if (!['small', 'medium', 'prod'].includes(profile)) throw new ConfigError(`--profile must be small, medium or prod (got "${profile}")`);
  const seed = Number(a.seed ?? 1);
  if (!Number.isSafeInteger(seed)) throw new ConfigError(`--seed must be a whole number (got "${String(a.seed)}")`);
  const runs = Number(a.runs ?? 1);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new ConfigError(`--runs must be a whole number, at least 1 (got "${String(a.runs)}")`);
  const asOf = String(a['as-of'] ?? BENCH_AS_OF).replace('T', ' ');
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(asOf)) throw new ConfigError(`--as-of must be YYYY-MM-DD HH:MM:SS (got "${asOf}")`);
  // The compiled program by default: tsx transpiling at start-up costs ~0.5 s of CPU, the
  // compile into .bench/dist under a second.
  const program = String(a.program ?? 'dist');
  if (program !== 'source' && program !== 'dist') throw new ConfigError(`--program must be source or dist (got "${program}")`);
  const explainMs = a.explain === undefined ? undefined : Number(a.explain);
  if (explainMs !== undefined && !(Number.isInteger(explainMs) && explainMs >= 0)) throw new ConfigError(`--explain needs milliseconds (got "${String(a.explain)}")`);
  const compareWith = a['compare-with'] === undefined ? undefined : String(a['compare-with']);
  if (compareWith !== undefined && !/^[\w./~^@-]+$/.test(compareWith)) throw new ConfigError(`--compare-with needs a git revision (got "${compareWith}")`);
  if (compareWith !== undefined && a['no-baseline'] === true) throw new ConfigError('--compare-with compares the rows the baseline exports: it cannot go with --no-baseline');
  const warehouse = String(a.warehouse ?? 'duckdb');
  if (warehouse !== 'duckdb' && warehouse !== 'snowflake-stand-in') throw new ConfigError(`--warehouse must be duckdb or snowflake-stand-in (got "${warehouse}")`);
  const prior = String(a.prior ?? 'shaped');
  if (prior !== 'shaped' && prior !== 'empty') throw new ConfigError(`--prior must be shaped or empty (got "${prior}")`);
  return {
    compareWith,
    duckdb,
    warehouse,
    compare: a['no-compare'] !== true,
    prior,
    explainMs,
    program,
    profile,
    seed,
    json: typeof a.json === 'string' ? a.json : undefined,
    rebuild: a.rebuild === true,
    runs,
    noBaseline: a['no-baseline'] === true,
    asOf,
    jobEnv,
  };
}

/** `bench --profile P --json FILE`: the benchmark of performance.md (src/bench). */
import { ConfigError } from '../errors.js';

export async function benchCommand(argv: string[]): Promise<number> {
  // Internal: the DuckDB baseline runs in a process of its own (its memory measured apart).
  if (argv[0] === '--worker') {
    if (argv[1] !== 'duckdb-baseline' || !argv[2]) throw new ConfigError('bench --worker duckdb-baseline SPEC');
    const { duckdbBaselineWorker } = await import('../bench/baseline.js');
    return duckdbBaselineWorker(argv[2]);
  }
  const { parseBenchArgs } = await import('../bench/options.js');
  const { runBench } = await import('../bench/bench.js');
  const opts = parseBenchArgs(argv);
  await runBench(opts, opts.program);
  return 0;
}

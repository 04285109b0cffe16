// Preloaded into the job process by `bench --duckdb NAME=VALUE` (node --import): every DuckDB
// instance the job creates gets these settings (memory_limit, threads…), so the benchmark can
// measure their effect on time and peak RSS without a configuration change in the job.
// BENCH_DUCKDB_SETTINGS holds them as JSON.
import { DuckDBInstance } from '@duckdb/node-api';

const settings = JSON.parse(process.env.BENCH_DUCKDB_SETTINGS ?? '{}');
const create = DuckDBInstance.create.bind(DuckDBInstance);
DuckDBInstance.create = (path, options) => create(path, { ...(options ?? {}), ...settings });

// `bench` arguments of issue 15 (operations.md: `bench --profile P`; performance.md: the job's
// memory through the Snowflake driver next to the DuckDB path's), and the log line the benchmark
// reads the driver's chunk parsing from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkParseFromLog } from '../../src/bench/job.js';
import { parseBenchArgs } from '../../src/bench/options.js';
import { ConfigError } from '../../src/errors.js';

test('--warehouse: duckdb by default, snowflake-stand-in on request, with the DuckDB-path comparison unless --no-compare', () => {
  assert.equal(parseBenchArgs(['--profile', 'small']).warehouse, 'duckdb');
  const o = parseBenchArgs(['--profile', 'prod', '--warehouse', 'snowflake-stand-in']);
  assert.equal(o.warehouse, 'snowflake-stand-in');
  assert.equal(o.compare, true);
  assert.equal(parseBenchArgs(['--warehouse', 'snowflake-stand-in', '--no-compare']).compare, false);
});

test('--warehouse with another value is a usage error naming the choices', () => {
  assert.throws(() => parseBenchArgs(['--warehouse', 'snowflake']), (e: unknown) => e instanceof ConfigError && /--warehouse must be duckdb or snowflake-stand-in \(got "snowflake"\)/.test(e.message));
});

test('--prior: shaped by default, empty on request; another value is a usage error', () => {
  assert.equal(parseBenchArgs([]).prior, 'shaped');
  assert.equal(parseBenchArgs(['--prior', 'empty']).prior, 'empty');
  assert.throws(() => parseBenchArgs(['--prior', 'none']), (e: unknown) => e instanceof ConfigError && /--prior must be shaped or empty \(got "none"\)/.test(e.message));
});

test("the driver's chunk parsing is read from the job's log line (src/warehouse/snowflake.ts writes it)", () => {
  const log = '2026-12-03 09:09:59.950 INFO    Snowflake result chunks: 1,234 parsed (2,345 MB of JSON, 12,345,678 rows) in 41.2s\n';
  assert.deepEqual(chunkParseFromLog(log), { chunks: 1234, megabytes: 2345, rows: 12_345_678, seconds: 41.2 });
  assert.equal(chunkParseFromLog('2026-12-03 09:09:59.950 INFO    Step 3 (conflicts): 22.1s, 15,424 detected rows\n'), undefined, 'the DuckDB path logs no such line');
});

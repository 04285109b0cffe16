// DUCKDB_MEMORY_LIMIT: the local warehouse's DuckDB keeps within a memory limit (performance.md:
// the DuckDB process within 3 GB at production size; DuckDB's own default is 80 % of the machine)
// and spills what does not fit to the machine's temporary directory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, describeConfig, loadConfig, type DuckDbConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { writeWarehouse, tempDir } from '../detection/warehouse.js';
import { silentLog } from '../helpers/log.js';

const duckdb = (env: Record<string, string>): DuckDbConfig => {
  const w = loadConfig(env).warehouse;
  assert.equal(w.kind, 'duckdb');
  return w as DuckDbConfig;
};

describe('DUCKDB_MEMORY_LIMIT', () => {
  it('defaults to 2GB and is shown in the effective configuration', () => {
    assert.equal(DEFAULT_DUCKDB_MEMORY_LIMIT, '2GB');
    const c = loadConfig({});
    assert.equal(duckdb({}).memoryLimit, '2GB');
    assert.deepEqual(describeConfig(c).find(([n]) => n === 'DUCKDB_MEMORY_LIMIT'), ['DUCKDB_MEMORY_LIMIT', '2GB']);
  });

  for (const good of ['1.5GB', '512MB', '4GiB', '3gb']) {
    it(`takes ${good}`, () => assert.equal(duckdb({ DUCKDB_MEMORY_LIMIT: good }).memoryLimit, good));
  }

  for (const bad of ['2', '2 GB', '-1GB', '0GB', 'lots', '80%']) {
    it(`refuses "${bad}" naming the variable and the form`, () => {
      assert.throws(
        () => loadConfig({ DUCKDB_MEMORY_LIMIT: bad }),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith('DUCKDB_MEMORY_LIMIT must be a size such as 2GB'),
      );
    });
  }

  it('is the memory_limit of the session the job opens, with spills in the temporary directory', async () => {
    const path = await writeWarehouse(tempDir(), { visits: [] });
    const session = await openDuckDb({ ...duckdb({ DUCKDB_MEMORY_LIMIT: '1.5GB' }), path }, { timezone: 'UTC', log: silentLog() });
    try {
      const [r] = await session.query(`SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t`);
      assert.match(String(r.m), /^1\.[34]\d* GiB$/, `memory_limit ${String(r.m)}`);
      assert.match(String(r.t), /conflict-updater-duckdb$/);
    } finally {
      await session.close();
    }
  });
});

// The state most reliability cases start from: a synthetic warehouse, a schema holding the result
// of a first run at `t1`, and the warehouse changed afterwards (round 1 of roundChanges), so the
// next run has updates, inserts and resolutions to make.
import { join } from 'node:path';
import { uniqueSchema } from '../../test/helpers/pg.js';
import { initSchema, jobEnv, runJob, tempDir, type JobResult } from './job.js';
import { onWarehouse, roundChanges, writeSynthetic, type SyntheticOptions } from './warehouse.js';

/** The clocks of the reliability cases: the first run's (the seed), and the run under test's. */
export const T1 = '2026-02-14 12:00:00';
export const T2 = '2026-02-15 12:00:00';

export interface Seeded {
  readonly warehouse: string;
  /** The schema the first run wrote (clone it, do not run on it). */
  readonly seed: string;
  /** The first run, for its own assertions. */
  readonly first: JobResult;
}

/** `name` names the warehouse file and the schema; `schemas` collects the schema for dropping. */
export async function seedAfterFirstRun(name: string, shape: SyntheticOptions, t1: string, changedAt: string, schemas: string[]): Promise<Seeded> {
  const warehouse = join(tempDir(), `${name}.duckdb`);
  await writeSynthetic(warehouse, shape);
  const seed = uniqueSchema(`${name.replace(/\W/g, '_')}_seed`);
  schemas.push(seed);
  await initSchema(seed);
  const first = await runJob(jobEnv(seed, warehouse, t1));
  if (first.code === 0) await onWarehouse(warehouse, roundChanges(1, changedAt, shape).statements);
  return { warehouse, seed, first };
}

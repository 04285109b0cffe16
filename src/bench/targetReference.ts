// The DetectionParams a job run will build, built the same way from outside the job: its
// configuration and the reference data of its target (the DuckDB baseline and the Snowflake
// stand-in both need the statements the job will send).
import type { Config } from '../config/config.js';
import { detectionParams, type DetectionParams } from '../detection/detection.js';
import type { Logger } from '../log.js';
import { readReferenceData } from '../target/referenceData.js';
import { openTarget } from '../target/postgres.js';

export async function paramsFromTarget(config: Config, log: Logger): Promise<DetectionParams> {
  const target = await openTarget(config.postgres, log);
  try {
    const c = await target.connect();
    try {
      return detectionParams(config, await readReferenceData(c, config.postgres.schema, log));
    } finally {
      await c.end();
    }
  } finally {
    await target.close();
  }
}

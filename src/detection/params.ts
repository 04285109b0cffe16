// The one place detection's parameters are built: from the configuration and the reference data
// read from PostgreSQL (the job, the benchmark's baseline and the `sql` tool).
import type { Config } from '../config/config.js';
import type { DetectionParams, DetectionReference } from './types.js';

export function detectionParams(config: Config, ref: DetectionReference): DetectionParams {
  return {
    asOf: config.asOf,
    lookbackHours: config.lookbackHours,
    lookbackYears: config.lookbackYears,
    lookforwardDays: config.lookforwardDays,
    comprehensive: config.enableAsymmetricJoin,
    batchSize: config.batchSize,
    excludedProviders: ref.excludedProviders,
    excludedSsns: ref.excludedSsns,
    mphBands: ref.mphBands,
    extraDistancePer: ref.extraDistancePer,
  };
}

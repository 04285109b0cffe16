// Detection's public surface: the statements of a run (for the `sql` tool and the Snowflake parse
// check), a run over a warehouse session (for the job), and its parameters. plan.ts lists the steps.
export { createDetectionRun, type DetectionContext } from './run.js';
export { detectionStatements, detectionPlan, type DetectionPlan } from './plan.js';
export { clockStatement } from './clock.js';
export { type PlanParams } from './context.js';
export { STEP, TEMP } from './names.js';
export { detectionParams } from './params.js';
export { sqlDialect, type SqlDialect } from './dialect/index.js';
export type { Statement } from './statement.js';
export type { DetectionParams, DetectionReference, DetectionRun, MphBand } from './types.js';

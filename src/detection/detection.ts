// Detection's public surface: the statements of a run (for the `sql` tool and the Snowflake parse
// check) and a run over a warehouse session (for the job). See steps.ts for the SQL itself.
export { createDetectionRun, type DetectionContext } from './run.js';
export { detectionStatements, clockStatement, detectionPlan, STEP, TEMP, type PlanParams, type DetectionPlan } from './steps.js';
export { sqlDialect, type SqlDialect } from './dialect.js';

// The V8 heap cap travels with the task size (operations.md, "Runtime"): the task definition sets
// NODE_OPTIONS=--max-old-space-size=<a fraction of the task's memory>, the image sets none. The
// CDK stack, the deploy tool (deploy/ecs-task-definition.json) and the benchmark all call
// nodeOptionsFor, so the three cannot disagree.

/**
 * Old space as a share of the task's memory. The job holds one batch at a time; the rest of the
 * task is for what lives outside the V8 heap (the Snowflake driver's result chunks and sockets,
 * Buffers, code, the young generation). At the reference 2048 MiB this is the 256 MB the
 * benchmark was tuned with, which keeps the process under performance.md's 400 MB RSS.
 */
export const HEAP_FRACTION = 1 / 8;

/** Fargate's smallest task is 512 MiB; below it a cap would not be a task size anyway. */
const MIN_TASK_MEMORY_MIB = 512;

/** The old-space cap in MiB for a task of `taskMemoryMiB`, rounded down to whole MiB. */
export function heapCapMiB(taskMemoryMiB: number): number {
  if (!Number.isInteger(taskMemoryMiB) || taskMemoryMiB < MIN_TASK_MEMORY_MIB) {
    throw new Error(`task memory must be a whole number of MiB, at least ${MIN_TASK_MEMORY_MIB} (got ${taskMemoryMiB})`);
  }
  return Math.floor(taskMemoryMiB * HEAP_FRACTION);
}

/** The NODE_OPTIONS value of the task definition for a task of `taskMemoryMiB`. */
export function nodeOptionsFor(taskMemoryMiB: number): string {
  return `--max-old-space-size=${heapCapMiB(taskMemoryMiB)}`;
}

// The machine's speed at the time of a run. On a shared virtual machine, work outside it (other
// guests on the host) can slow every step by a quarter without showing in the load average; a
// fixed workload timed before each run makes runs of different hours comparable.

/** Iterations of the workload: about 0.2 s on the 2-core benchmark machine. */
const ITERATIONS = 150_000_000;

let sink = 0;

/** One pass of a fixed single-threaded integer workload (nothing V8 can skip), in milliseconds. */
function once(): number {
  const t0 = performance.now();
  let h = sink;
  for (let i = 0; i < ITERATIONS; i++) h = Math.imul(h ^ i, 0x9e3779b1) >>> 0;
  sink = h;
  return performance.now() - t0;
}

/** The fixed workload's best of three passes (the first also compiles it), in whole milliseconds: lower is faster. */
export function cpuGaugeMs(): number {
  return Math.round(Math.min(once(), once(), once()));
}

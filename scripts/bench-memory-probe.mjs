// Preloaded into the job process by `bench` (node --import): the job's own V8 heap, sampled from
// inside (process.memoryUsage every 20 ms; heapTotal, the heap V8 has committed, bounds what was in
// use between samples), written as JSON to BENCH_MEMORY_PROBE when the process exits. RSS is read from outside too (/proc, src/bench/job.ts);
// the heap can only be seen from inside. Nothing of the job changes.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

const path = process.env.BENCH_MEMORY_PROBE;
if (path) {
  const MB = 1024 * 1024;
  const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak)) if (m[k] > peak[k]) peak[k] = m[k];
  };
  const timer = setInterval(sample, 20);
  timer.unref();
  let gcs = 0;
  const gc = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  gc.observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    sample();
    const h = getHeapStatistics();
    const cpu = process.cpuUsage();
    const mb = (n) => Math.round((n / MB) * 10) / 10;
    writeFileSync(
      path,
      JSON.stringify({
        peakRssMb: mb(peak.rss),
        peakHeapUsedMb: mb(peak.heapUsed),
        peakHeapTotalMb: mb(peak.heapTotal),
        peakExternalMb: mb(peak.external),
        peakArrayBuffersMb: mb(peak.arrayBuffers),
        heapSizeLimitMb: mb(h.heap_size_limit),
        garbageCollections: gcs,
        // the job's own CPU time: what it costs whatever the warehouse's time (the stand-in shares the machine)
        cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      }),
    );
  });
}

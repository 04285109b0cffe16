// Process memory from /proc (Linux): a process's peak RSS (VmHWM) and a PostgreSQL server's
// resident memory (its processes' private memory plus the shared buffers they touched, once).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStatus {
  /** Peak resident set size so far, MB. */
  hwmMb: number;
  rssMb: number;
  anonMb: number;
  shmemMb: number;
}

const KB = /^(\w+):\s+(\d+) kB$/;

export function procStatus(pid: number): ProcStatus | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = KB.exec(line);
    if (m) kb[m[1]] = Number(m[2]);
  }
  const mb = (k: string) => (kb[k] ?? 0) / 1024;
  return { hwmMb: mb('VmHWM'), rssMb: mb('VmRSS'), anonMb: mb('RssAnon'), shmemMb: mb('RssShmem') };
}

/** The pids whose parent is `ppid`. */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Resident memory of a PostgreSQL server (postmaster and its children), MB: Σ private + max shared. */
export function postgresResidentMb(postmasterPid: number): number {
  const pids = [postmasterPid, ...childPids(postmasterPid)];
  let anon = 0;
  let shmem = 0;
  for (const pid of pids) {
    const s = procStatus(pid);
    if (!s) continue;
    anon += s.anonMb;
    shmem = Math.max(shmem, s.shmemMb);
  }
  return anon + shmem;
}

/** Samples `read` every `ms` and keeps the largest value until stopped. */
export class PeakSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly read: () => number | undefined,
    ms = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), ms);
    this.timer.unref();
  }

  sample(): void {
    const v = this.read();
    if (v !== undefined && Number.isFinite(v) && v > this.peak) this.peak = v;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

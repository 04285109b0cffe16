// Temporary directories for tests: made under the OS temp dir and removed when the test process
// exits (the runner gives every test file its own process), so no test needs a cleanup hook.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory `<os tmp>/<prefix>XXXXXX`, removed with everything in it at exit. */
export function tempDir(prefix = 'cu-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

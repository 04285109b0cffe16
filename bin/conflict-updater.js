#!/usr/bin/env node
// Entry point. In a checkout (sources present, tsx installed) it runs the TypeScript sources,
// so a stale build can never shadow them; in the container it runs the compiled program.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli.ts', import.meta.url);
let useSource = existsSync(fileURLToPath(source));
if (useSource) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    useSource = false;
  }
}
const { main } = await import(useSource ? source.href : new URL('../dist/cli.js', import.meta.url).href);
const code = await main(process.argv.slice(2));
// Let stdout drain, then leave even if a library left a handle open.
process.stdout.write('', () => process.exit(code));

// Code shape (issue 13): no runtime import cycle in src/. Static `import … from`, `export … from`
// and dynamic `import('…')` count (a lazy import is still a cycle: the registry once loaded the
// demo, which loaded the registry); `import type` does not, it is gone at run time.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** The src/ files `file` imports at run time. */
export function runtimeImports(file: string, text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  // import x from '…', import { a, type B } from '…', import '…', export { a } from '…', export * from '…'
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*(?:from\s+)?['"]([^'"]+)['"]/gm)) {
    if (m[2]) continue; // import type / export type
    if (m[1] === 'export' && !/from/.test(m[0])) continue;
    specs.push(m[4]);
  }
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every cycle of the graph, each as the list of files around it (Tarjan's strongly connected components). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('the import scanner sees static, re-exported and lazy imports, and skips type-only ones', () => {
  const f = join(SRC, 'a', 'x.ts');
  const found = runtimeImports(
    f,
    [
      "import { b } from './b.js';",
      "import type { C } from './c.js';",
      "export { d } from '../d.js';",
      "export type { E } from './e.js';",
      "import './side.js';",
      "const m = async () => (await import('./lazy.js')).m;",
      "import pg from 'pg';",
      "// import { no } from './comment.js';",
    ].join('\n'),
  );
  assert.deepEqual(
    found.map((p) => relative(SRC, p)),
    ['a/b.ts', 'd.ts', 'a/side.ts', 'a/lazy.ts'],
  );
  const g = new Map([
    ['a', ['b']],
    ['b', ['a']],
    ['c', ['a']],
  ]);
  assert.deepEqual(cycles(g).map((c) => c.sort()), [['a', 'b']]);
});

test('src/ has no runtime import cycle', () => {
  const graph = new Map<string, string[]>();
  for (const f of sourceFiles(SRC)) graph.set(f, runtimeImports(f, readFileSync(f, 'utf8')));
  const found = cycles(graph).map((c) => c.map((f) => relative(SRC, f)).sort().join(' <-> '));
  assert.deepEqual(found, [], `import cycles:\n${found.join('\n')}`);
});

// Small readers for the Dockerfile and .dockerignore, enough for the checks of dockerfile.test.ts.
// They follow Docker's rules where it matters here: line continuations and comment lines, JSON
// and shell forms, COPY flags, and .dockerignore matching as BuildKit does it (patterns anchored
// at the context root, "*" within a path segment, "**" across segments, "!" re-includes, the last
// matching pattern wins, a path is excluded when one of its parent folders is).

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface CopyInstruction {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

export interface Stage {
  name?: string;
  image: string;
  platform?: string;
  index: number;
  instructions: Instruction[];
}

export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let current: { keyword: string; parts: string[]; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    // Comment lines (parser directives included) are dropped, also inside a continuation.
    if (trimmed.startsWith('#')) continue;
    if (!current && trimmed === '') continue;
    let body = trimmed;
    const continues = body.endsWith('\\');
    if (continues) body = body.slice(0, -1).trim();
    if (!current) {
      const m = /^(\S+)\s*(.*)$/.exec(body);
      if (!m) continue;
      current = { keyword: m[1].toUpperCase(), parts: m[2] ? [m[2]] : [], line: i + 1 };
    } else if (body !== '') {
      current.parts.push(body);
    }
    if (!continues) {
      out.push({ keyword: current.keyword, args: current.parts.join(' '), line: current.line });
      current = undefined;
    }
  }
  if (current) out.push({ keyword: current.keyword, args: current.parts.join(' '), line: current.line });
  return out;
}

export function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/);
      let platform: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift() as string;
        if (flag.startsWith('--platform=')) platform = flag.slice('--platform='.length);
      }
      const [image, as, name] = words;
      stages.push({
        image,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        platform,
        index: stages.length,
        instructions: [],
      });
    } else if (ins.keyword !== 'ARG' || stages.length > 0) {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      stage.instructions.push(ins);
    }
  }
  return stages;
}

/** JSON array form (`["a", "b"]`) or shell words. */
export function splitArgs(args: string): string[] {
  const t = args.trim();
  if (t.startsWith('[')) {
    const parsed: unknown = JSON.parse(t);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`not a JSON string array: ${t}`);
    return parsed;
  }
  return t.split(/\s+/).filter(Boolean);
}

export function parseCopy(ins: Instruction): CopyInstruction {
  let rest = ins.args.trim();
  let from: string | undefined;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!m) break;
    if (m[1] === 'from') from = m[2];
    rest = rest.slice(m[0].length);
  }
  const words = splitArgs(rest);
  if (words.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  return { from, sources: words.slice(0, -1), dest: words[words.length - 1], line: ins.line };
}

/** ENV key=value pairs (or the legacy `ENV key value`). */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(args.trim());
  if (legacy && !args.includes('=')) {
    out[legacy[1]] = legacy[2];
    return out;
  }
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) {
    const v = m[2];
    out[m[1]] = v.startsWith('"') || v.startsWith("'") ? v.slice(1, -1) : v;
  }
  return out;
}

// ---- .dockerignore ---------------------------------------------------------------------------

interface IgnoreRule {
  pattern: string;
  exclusion: boolean;
  regex: RegExp;
}

function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

function patternToRegex(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      re += pattern[i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (ch === '[' || ch === ']') {
      re += ch;
    } else {
      re += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
    }
  }
  return new RegExp(re + '$');
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let exclusion = false;
    if (line.startsWith('!')) {
      exclusion = true;
      line = line.slice(1).trim();
    }
    const pattern = cleanPath(line);
    if (pattern === '') continue;
    rules.push({ pattern, exclusion, regex: patternToRegex(pattern) });
  }
  return rules;
}

/** Whether `path` (relative to the context root, "/" separated) is left out of the build context. */
export function isExcluded(rules: IgnoreRule[], path: string): boolean {
  const file = cleanPath(path);
  const dirs = file.split('/').slice(0, -1);
  let matched = false;
  for (const rule of rules) {
    // An inclusion cannot change an excluded-already result and vice versa.
    if (rule.exclusion !== matched) continue;
    let match = rule.regex.test(file);
    for (let i = 1; !match && i <= dirs.length; i++) match = rule.regex.test(dirs.slice(0, i).join('/'));
    if (match) matched = !rule.exclusion;
  }
  return matched;
}

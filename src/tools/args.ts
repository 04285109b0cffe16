// A small `--name value` / `--flag` parser for the local tools.
import { ConfigError } from '../errors.js';

export function parseArgs(argv: string[], spec: Record<string, 'string' | 'boolean'>): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [key, inline] = a.startsWith('--') ? a.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    if (!key || !(key in spec)) throw new ConfigError(`unknown option ${a}; options: ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    if (spec[key] === 'boolean') out[key] = true;
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ConfigError(`--${key} needs a value`);
      out[key] = v;
    }
  }
  return out;
}

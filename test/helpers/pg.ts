// The real PostgreSQL every test uses: TEST_POSTGRES_URL, set by scripts/test.mjs (an embedded
// server for the whole run, or a server the environment names). Each test gets its own schema.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Env, PostgresConfig } from '../../src/config/config.js';

export function testPostgresUrl(): URL {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) throw new Error('TEST_POSTGRES_URL is not set: run the tests with `npm test` (scripts/test.mjs starts a PostgreSQL)');
  return new URL(url);
}

/** A schema name no other test uses. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** The environment variables that point the program at the test server and `schema`. */
export function testPostgresEnv(schema: string): Env {
  const u = testPostgresUrl();
  return {
    POSTGRES_HOST: u.hostname,
    POSTGRES_PORT: u.port || '5432',
    POSTGRES_USER: decodeURIComponent(u.username),
    POSTGRES_PASSWORD: decodeURIComponent(u.password),
    POSTGRES_DATABASE: u.pathname.slice(1) || 'postgres',
    POSTGRES_SCHEMA: schema,
    POSTGRES_SSLMODE: 'disable',
  };
}

export function testPostgresConfig(schema: string): PostgresConfig {
  const e = testPostgresEnv(schema);
  return {
    kind: 'external',
    host: e.POSTGRES_HOST as string,
    port: Number(e.POSTGRES_PORT),
    user: e.POSTGRES_USER as string,
    password: e.POSTGRES_PASSWORD as string,
    database: e.POSTGRES_DATABASE as string,
    schema,
    sslmode: 'disable',
    sslRootCert: undefined,
    dataDir: 'unused',
  };
}

/** A client on the test database; the caller ends it. */
export async function testClient(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: testPostgresUrl().toString() });
  await c.connect();
  return c;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = await testClient();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

// What every sync module gets: the run's PostgreSQL session, with the stop check before each
// statement, and the target tables' names, quoted once.
import type pg from 'pg';
import type { Shutdown } from '../run/shutdown.js';
import { postgresText } from '../sqlText.js';

export interface SyncDb {
  /** One statement; throws StoppedError first when the run has been stopped (SIGTERM). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** The session itself (COPY, and the statements that must run even after a stop: ROLLBACK). */
  readonly client: pg.Client;
  throwIfStopped(): void;
}

export function syncDb(client: pg.Client, shutdown?: Shutdown): SyncDb {
  const throwIfStopped = () => shutdown?.throwIfStopped();
  return {
    client,
    throwIfStopped,
    query<R extends pg.QueryResultRow>(text: string, params?: unknown[]) {
      throwIfStopped();
      return client.query<R>(text, params);
    },
  };
}

/** The target tables the sync reads and writes (target-tables.tsv), schema-qualified and quoted. */
export interface TargetTables {
  readonly cvm: string;
  readonly conflicts: string;
  readonly excludedSsn: string;
  readonly excludedAgency: string;
}

export function targetTables(schema: string): TargetTables {
  const t = (name: string) => postgresText.qualified(schema, name);
  return { cvm: t('conflictvisitmaps'), conflicts: t('conflicts'), excludedSsn: t('excluded_ssn'), excludedAgency: t('excluded_agency') };
}

/** A count column of a one-row result (PostgreSQL returns bigint as text). */
export function count(r: pg.QueryResult, column = 'n'): number {
  return Number(r.rows[0]?.[column] ?? 0);
}

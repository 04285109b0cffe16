// The contract between detection (warehouse, steps 0–3) and sync (PostgreSQL): reference
// data in, three streams out. See detection.md and sync.md.
import type { WarehouseRow } from '../warehouse/warehouse.js';

export interface MphBand {
  readonly from: number;
  readonly to: number;
  readonly mph: number;
}

/** Everything a detection run needs; all relative times come from the clock T. */
export interface DetectionParams {
  /** AS_OF as configured (ISO-8601, maybe with an offset), or undefined: the session's now. */
  readonly asOf: string | undefined;
  readonly lookbackHours: number;
  readonly lookbackYears: number;
  readonly lookforwardDays: number;
  /** ENABLE_ASYMMETRIC_JOIN: true = comprehensive, false = delta only. */
  readonly comprehensive: boolean;
  readonly batchSize: number;
  /** Lower-cased provider ids of excluded_agency. */
  readonly excludedProviders: readonly string[];
  /** Trimmed, non-empty SSNs of excluded_ssn. */
  readonly excludedSsns: readonly string[];
  /** Usable bands (no NULLs), ordered by `from`. */
  readonly mphBands: readonly MphBand[];
  readonly extraDistancePer: number;
}

/** One detection run over one warehouse session. Methods are called in this order. */
export interface DetectionRun {
  /** T as a naive timestamp `YYYY-MM-DD HH:MM:SS[.ffffff]` in the session's zone, read once. */
  resolveClock(): Promise<string>;
  /** Steps 0–2 (excluded SSNs, delta_keys, base visits A and B), each timed in the recorder. */
  prepare(): Promise<void>;
  /**
   * Affected groups, one row per SSN: [SSN (trimmed), its VisitDates `YYYY-MM-DD` joined by
   * commas, in no particular order], streamed.
   */
  affectedGroups(): AsyncIterable<WarehouseRow[]>;
  /**
   * Visit ids (lower-cased, valid UUIDs only) that widen the stale scope: comprehensive mode,
   * every fact row whose `Visit Updated Timestamp` is in the lookback; delta-only mode, the
   * changed candidate visits. Packed: rows [VisitIDs], each a few hundred ids joined by commas.
   */
  scopeVisitIds(): AsyncIterable<WarehouseRow[]>;
  /** Step 3: the detected rows, in the column order of DETECTED_COLUMNS, ids lower-cased. */
  detectedRows(): AsyncIterable<WarehouseRow[]>;
}

/** One statement of a run, for the `sql` tool and the Snowflake parse check. */
export interface Statement {
  readonly step: string;
  readonly sql: string;
  readonly params: readonly (string | number | boolean | null)[];
  /**
   * How the run sends it (optional, added by detection): `execute`, `query` (small result),
   * `stream` (large result, batched), or `insertRows`: the rows travel as data through
   * WarehouseSession.insertRows, `sql` shows the INSERT with one row of placeholders.
   */
  readonly kind?: 'execute' | 'query' | 'stream' | 'insertRows';
  /** For `insertRows`: the table, its columns, how many rows and the first few (for reading). */
  readonly data?: {
    readonly table: string;
    readonly columns: readonly string[];
    readonly rowCount: number;
    readonly sample: readonly (readonly (string | number | boolean | null)[])[];
  };
}

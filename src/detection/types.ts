// The contract between detection (warehouse, steps 0–3) and sync (PostgreSQL): reference
// data in, three streams out. See detection.md and sync.md.
import type { AsOf } from '../config/config.js';
import type { WarehouseRow } from '../warehouse/warehouse.js';

export interface MphBand {
  readonly from: number;
  readonly to: number;
  readonly mph: number;
}

/** What detection reads from PostgreSQL before it starts (detection.md, "Reference data"). */
export interface DetectionReference {
  /** Lower-cased provider ids of excluded_agency. */
  readonly excludedProviders: readonly string[];
  /** Trimmed, non-empty SSNs of excluded_ssn. */
  readonly excludedSsns: readonly string[];
  /** Usable bands (no NULLs), ordered by `from`. */
  readonly mphBands: readonly MphBand[];
  readonly extraDistancePer: number;
}

/** Everything a detection run needs; all relative times come from the clock T. */
export interface DetectionParams extends DetectionReference {
  /** AS_OF as parsed by the configuration, or undefined: the session's now. */
  readonly asOf: AsOf | undefined;
  readonly lookbackHours: number;
  readonly lookbackYears: number;
  readonly lookforwardDays: number;
  /** ENABLE_ASYMMETRIC_JOIN: true = comprehensive, false = delta only. */
  readonly comprehensive: boolean;
  readonly batchSize: number;
}

/**
 * The open CVM rows' keys, packed: each value holds the keys of a thousand open rows (sync's
 * openRows.ts packs them; the warehouse unpacks them, openKeys.ts). Each iterable yields batches
 * of rows of one value; a key may repeat (the warehouse keeps each once).
 */
export interface OpenKeys {
  /** Visit ids (both sides) as PostgreSQL prints a uuid, joined by commas. */
  ids(): AsyncIterable<string[][]>;
  /**
   * (trimmed SSN, VisitDate) groups joined by commas, each its VisitDate `YYYY-MM-DD` followed by
   * the hexadecimal of its SSN's UTF-8 bytes (an SSN may hold any character, a comma too).
   */
  groups(): AsyncIterable<string[][]>;
}

/** One detection run over one warehouse session. Methods are called in this order. */
export interface DetectionRun {
  /** T as a naive timestamp `YYYY-MM-DD HH:MM:SS[.ffffff]` in the session's zone, read once. */
  resolveClock(): Promise<string>;
  /** Steps 0–2 (excluded SSNs, delta_keys, base visits A and B), each timed in the recorder. */
  prepare(): Promise<void>;
  /**
   * Send the open rows' keys (sync.md, "Stale resolution": reduce the scope first in the
   * warehouse). After it, the affected groups and scope visit ids are only those that reach an
   * open row; without it, the whole scope.
   */
  sendOpenKeys(keys: OpenKeys): Promise<void>;
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

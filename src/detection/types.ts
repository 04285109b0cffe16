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

// A fast check in Node.js, while the detected rows stream into staging, that a row can certainly
// be stored: every value passes a test at least as strict as the SQL checks of columns.ts
// (columnChecks), and both keys are UUIDs. Validation then runs its SQL checks only on the rows
// that fail it (normally none): the checks cost microseconds per value in PostgreSQL, V8's regular
// expressions a few dozen nanoseconds. A row that fails here is not invalid, only not vouched for.
import type { DetectedColumn } from '../schema/columns.js';
import { UUID_RE } from '../sqlText.js';
import type { WarehouseValue } from '../warehouse/warehouse.js';

/** True when the value certainly passes every SQL check of its column (NULL passes). */
export type Precheck = (v: WarehouseValue | undefined) => boolean;

/** Whole numbers short enough to be in range whatever the sign. */
const INT: Record<string, RegExp> = { int2: /^-?[0-9]{1,4}$/, int4: /^-?[0-9]{1,9}$/, int8: /^-?[0-9]{1,18}$/ };
/** Plain decimals whose magnitude is within real's range (|x| < 1e20, and ≥ 1e-20 unless zero). */
const REAL_TEXT = /^-?[0-9]{1,20}(\.[0-9]{0,20})?$/;
const DATE = /^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;
const TIMESTAMP = /^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?$/;
const BOOL = /^(t|f|true|false)$/i;

/** The text COPY sends for a value (copyField without the escapes). */
function text(v: WarehouseValue): string {
  return typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 't' : 'f') : String(v);
}

/** A real calendar day in years 1…9999 (PostgreSQL accepts every one of them). */
function realDay(y: string, m: string, d: string): boolean {
  const year = Number(y);
  if (year < 1) return false;
  const day = Number(d);
  if (day <= 28) return true;
  const month = Number(m);
  const days = month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

export function precheck(col: DetectedColumn): Precheck {
  const t = col.pgType;
  const varchar = /^varchar\((\d+)\)$/.exec(t);
  if (varchar) {
    // UTF-16 length ≥ the number of characters: a sufficient bound.
    const max = Number(varchar[1]);
    return (v) => v === null || v === undefined || (typeof v === 'string' ? v.length <= max : text(v).length <= max);
  }
  switch (t) {
    case 'uuid':
      return (v) => v === null || v === undefined || (typeof v === 'string' && v.length === 36 && UUID_RE.test(v));
    case 'int2':
    case 'int4':
    case 'int8': {
      const re = INT[t];
      return (v) => v === null || v === undefined || (typeof v !== 'boolean' && re.test(text(v)));
    }
    case 'real':
      return (v) => {
        if (v === null || v === undefined) return true;
        if (typeof v === 'number') {
          const a = Math.abs(v);
          return Number.isFinite(v) && (a === 0 || (a >= 1.2e-38 && a <= 3.4e38));
        }
        return typeof v === 'string' && REAL_TEXT.test(v);
      };
    case 'date':
      return (v) => {
        if (v === null || v === undefined) return true;
        const m = typeof v === 'string' ? DATE.exec(v) : null;
        return m !== null && realDay(m[1], m[2], m[3]);
      };
    case 'timestamp':
      return (v) => {
        if (v === null || v === undefined) return true;
        const m = typeof v === 'string' ? TIMESTAMP.exec(v) : null;
        return m !== null && realDay(m[1], m[2], m[3]);
      };
    case 'bool':
      return (v) => v === null || v === undefined || typeof v === 'boolean' || (typeof v === 'string' && BOOL.test(v));
    default:
      return () => false;
  }
}

/** One check per column, in DETECTED_COLUMNS order; `keys`: the positions of VisitID and ConVisitID. */
export function rowPrecheck(columns: readonly DetectedColumn[]): (row: readonly WarehouseValue[]) => boolean {
  const checks = columns.map(precheck);
  const keys = ['VisitID', 'ConVisitID'].map((n) => columns.findIndex((c) => c.name === n));
  return (row) => {
    for (const k of keys) if (k < 0 || row[k] === null || row[k] === undefined) return false;
    for (let i = 0; i < checks.length; i++) if (!checks[i](row[i])) return false;
    return true;
  };
}

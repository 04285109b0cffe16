// A fast check in Node.js, while the detected rows stream into staging, that a row can certainly
// be stored: every value passes a test at least as strict as the SQL checks of columns.ts
// (columnChecks), and both keys are UUIDs. Such a row is COPYed straight into its typed columns;
// the others travel as text and validation runs its SQL checks on them alone (normally there are
// none): the checks cost microseconds per value in PostgreSQL, V8's regular expressions a few
// dozen nanoseconds. A row that fails here is not invalid, only not vouched for.
import type { DetectedColumn } from '../schema/columns.js';
import { UUID_PATTERN_LOWER, UUID_RE } from '../sqlText.js';
import type { WarehouseValue } from '../warehouse/warehouse.js';
import { KEY_COLUMNS } from './columns.js';
import { COPY_NULL, escapeCopyText, fieldText } from './copy.js';

/**
 * A value's field in the COPY text (escaped, NULL as \N) when it certainly passes every SQL check
 * of its column; undefined when it cannot be vouched for. One pass gives both, and a value whose
 * pattern admits no backslash, tab or newline skips the escape test.
 */
export type FieldEncoder = (v: WarehouseValue | undefined) => string | undefined;

/** Whole numbers short enough to be in range whatever the sign. */
const INT: Record<string, RegExp> = { int2: /^-?[0-9]{1,4}$/, int4: /^-?[0-9]{1,9}$/, int8: /^-?[0-9]{1,18}$/ };
/** Plain decimals whose magnitude is within real's range (|x| < 1e20, and ≥ 1e-20 unless zero). */
const REAL_TEXT = /^-?[0-9]{1,20}(\.[0-9]{0,20})?$/;
const DATE = /^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$/;
const TIMESTAMP = /^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])(?:[ T](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?)?$/;
const BOOL = /^(t|f|true|false)$/i;
const UUID_LOWER_RE = new RegExp(UUID_PATTERN_LOWER);

/** `s` starts with YYYY-MM-DD (the patterns checked that): a real calendar day in years 1…9999 (PostgreSQL accepts every one). */
function realDay(s: string): boolean {
  const day = Number(s.slice(8, 10));
  const year = Number(s.slice(0, 4));
  if (year < 1) return false;
  if (day <= 28) return true;
  const month = Number(s.slice(5, 7));
  const days = month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

export function fieldEncoder(col: DetectedColumn): FieldEncoder {
  const t = col.pgType;
  const varchar = /^varchar\((\d+)\)$/.exec(t);
  if (varchar) {
    // UTF-16 length ≥ the number of characters: a sufficient bound.
    const max = Number(varchar[1]);
    return (v) => {
      if (v === null || v === undefined) return COPY_NULL;
      if (typeof v === 'string') return v.length <= max ? escapeCopyText(v) : undefined;
      const s = fieldText(v)!; // a number or boolean: nothing to escape
      return s.length <= max ? s : undefined;
    };
  }
  switch (t) {
    case 'uuid':
      return (v) => (v === null || v === undefined ? COPY_NULL : typeof v === 'string' && v.length === 36 && UUID_RE.test(v) ? v : undefined);
    case 'int2':
    case 'int4':
    case 'int8': {
      const re = INT[t];
      return (v) => {
        if (v === null || v === undefined) return COPY_NULL;
        if (typeof v === 'boolean') return undefined;
        const s = typeof v === 'string' ? v : String(v);
        return re.test(s) ? s : undefined;
      };
    }
    case 'real':
      return (v) => {
        if (v === null || v === undefined) return COPY_NULL;
        if (typeof v === 'number') {
          const a = Math.abs(v);
          return Number.isFinite(v) && (a === 0 || (a >= 1.2e-38 && a <= 3.4e38)) ? String(v) : undefined;
        }
        return typeof v === 'string' && REAL_TEXT.test(v) ? v : undefined;
      };
    case 'date':
      return (v) => (v === null || v === undefined ? COPY_NULL : typeof v === 'string' && DATE.test(v) && realDay(v) ? v : undefined);
    case 'timestamp':
      return (v) => (v === null || v === undefined ? COPY_NULL : typeof v === 'string' && TIMESTAMP.test(v) && realDay(v) ? v : undefined);
    case 'bool':
      return (v) => {
        if (v === null || v === undefined) return COPY_NULL;
        if (typeof v === 'boolean') return v ? 't' : 'f';
        return typeof v === 'string' && BOOL.test(v) ? v : undefined;
      };
    default:
      return () => undefined;
  }
}

/**
 * A detected row's fields in the COPY text (tab-separated, no newline) when every value is vouched
 * for (fieldEncoder) and both keys are UUIDs in lower case (the form detection sends: a vouched
 * row's keys are stored typed, and read back as text they must be what the warehouse sent, since
 * a duplicate is reported by its keys); else undefined.
 */
export function rowEncoder(columns: readonly DetectedColumn[]): (row: readonly WarehouseValue[]) => string | undefined {
  const encoders = columns.map(fieldEncoder);
  const keys = KEY_COLUMNS.map((n) => columns.findIndex((c) => c.name === n));
  const fields = new Array<string>(columns.length);
  return (row) => {
    for (const k of keys) {
      const v = k < 0 ? undefined : row[k];
      if (typeof v !== 'string' || !UUID_LOWER_RE.test(v)) return undefined;
    }
    for (let i = 0; i < encoders.length; i++) {
      const f = encoders[i](row[i]);
      if (f === undefined) return undefined;
      fields[i] = f;
    }
    return fields.join('\t');
  };
}

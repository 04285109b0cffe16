// SQL text: the only place where identifiers are quoted, string literals escaped and the UUID
// pattern written. One object per engine, so a caller names the engine it writes for and never
// the escaping rule.

export type SqlScalar = string | number | boolean | null;

export interface SqlText {
  /** A double-quoted identifier: case kept, embedded quotes doubled (the same in all three engines). */
  ident(name: string): string;
  /** `"schema"."table"` from its parts. */
  qualified(...parts: string[]): string;
  /** A string literal. */
  str(s: string): string;
  /** A literal of a scalar: NULL, true/false, a finite number or a string. */
  literal(v: SqlScalar): string;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function engine(str: (s: string) => string): SqlText {
  return {
    ident,
    qualified: (...parts) => parts.map(ident).join('.'),
    str,
    literal(v) {
      if (v === null) return 'NULL';
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
        return String(v);
      }
      return str(v);
    },
  };
}

/** PostgreSQL with standard_conforming_strings (on since 9.1, and the job never turns it off). */
export const postgresText: SqlText = engine((s) => `'${s.replace(/'/g, "''")}'`);

/** PostgreSQL's identifier quoting as a plain function (postgresText.ident). */
export const postgresIdent = postgresText.ident;

/** DuckDB: a backslash is an ordinary character in a string literal. */
export const duckdbText: SqlText = engine((s) => `'${s.replace(/'/g, "''")}'`);

/** Snowflake: a backslash starts an escape sequence inside a string literal, so it is doubled too. */
export const snowflakeText: SqlText = engine((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);

/** A UUID in its canonical hyphenated text, either case (PostgreSQL's uuid input accepts both). */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** The same, lower case only: for text already lowered (the warehouse's visit ids). */
export const UUID_PATTERN_LOWER = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const UUID_RE = new RegExp(UUID_PATTERN);

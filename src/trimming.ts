// Trimming as the spec defines it (detection.md, "Trimming"): leading and trailing spaces
// (U+0020) removed, nothing else, as Snowflake's TRIM(x) and PostgreSQL's btrim(x) do. Tabs,
// newlines and no-break spaces stay: String.prototype.trim removes them and must not be used on
// data values (SSNs, states, zip codes). The SQL side is SqlDialect.trimSpaces.

const EDGE_SPACES = /^ +| +$/g;

export function trimSpaces(value: string): string {
  return value.replace(EDGE_SPACES, '');
}

// Step 0 (detection.md): the warehouse temporary tables of excluded SSNs and excluded providers.
// Their values travel as data (bound), never as SQL text.
import { trimSpaces } from '../trimming.js';
import { createTempTable, type Ctx } from './context.js';
import { STEP, TEMP } from './names.js';
import { execute, insertRows, type ExecuteStatement, type InsertRowsStatement } from './statement.js';

export interface ExclusionStatements {
  readonly createSsns: ExecuteStatement;
  readonly insertSsns: InsertRowsStatement;
  readonly createProviders: ExecuteStatement;
  readonly insertProviders: InsertRowsStatement;
}

/** Trimmed of spaces only (detection.md, "Trimming"), without empty and repeated values. */
function uniqueValues(values: readonly string[], normalise: (v: string) => string): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const t = normalise(trimSpaces(v));
    if (t) out.add(t);
  }
  return [...out];
}

export function exclusionStatements(x: Ctx): ExclusionStatements {
  const { p, d } = x;
  const ssns = uniqueValues(p.excludedSsns, (v) => v);
  // Ids are compared lower-cased (detection.md, "Identifiers").
  const providers = uniqueValues(p.excludedProviders, (v) => v.toLowerCase());
  return {
    createSsns: execute(STEP.excluded, createTempTable(x, TEMP.excludedSsns, [['ssn', 'VARCHAR']])),
    insertSsns: insertRows(STEP.excluded, d.text, TEMP.excludedSsns, 'ssn', ssns, 'the excluded_ssn values read from PostgreSQL'),
    createProviders: execute(STEP.excluded, createTempTable(x, TEMP.excludedProviders, [['provider_id', 'VARCHAR']])),
    insertProviders: insertRows(STEP.excluded, d.text, TEMP.excludedProviders, 'provider_id', providers, 'the excluded_agency values read from PostgreSQL'),
  };
}

// Reliability: a soak (sync.md: matching, update, insert, stale resolution, exclusions,
// idempotence). Ten consecutive runs over a warehouse that changes between runs, the clock
// (AS_OF) one day further each time: visits move (conflicts end and begin), become missed and
// back, change provider or date, are deleted (another process marks their rows `D`, as in
// production) or added; an SSN is excluded half-way. The open conflicts at the end (StatusFlag
// U/N/NULL, with their keys and the seven flags) must equal those of one run from scratch at the
// last AS_OF (a fresh schema, every visit in the lookback). A further run with nothing changed
// writes nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { postgresIdent as quoteIdent } from '../src/sqlText.js';
import { uniqueSchema } from '../test/helpers/pg.js';
import { dropSchemas, inProgressFlag, initSchema, jobEnv, openConflicts, runJob, show, tablesChecksum, tempDir, withClient } from './helpers/job.js';
import { onWarehouse, roundChanges, writeSynthetic, type SyntheticOptions } from './helpers/warehouse.js';

const ROUNDS = 10;
const DAY0 = Date.UTC(2026, 1, 14, 12); // 2026-02-14 12:00 UTC
const asOf = (r: number) => new Date(DAY0 + (r - 1) * 86_400_000).toISOString().replace('T', ' ').slice(0, 19);
const hoursBefore = (ts: string, h: number) => new Date(Date.parse(`${ts.replace(' ', 'T')}Z`) - h * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);

// Dates 2026-02-11 … 2026-02-26; unstarted visits only from 2026-02-24 on, after the last AS_OF
// (rules 1 and 4 depend on the date being today or later). No GPS: rule 7 is the one rule whose
// flag could change while a pair stays a conflict, and this job never turns a Y back to N.
const SHAPE: SyntheticOptions = {
  caregivers: 40,
  dates: 16,
  visitsPerDay: 4,
  providers: 6,
  firstDate: '2026-02-11',
  futureFrom: '2026-02-24',
  updatedAt: hoursBefore(asOf(1), 3),
  gps: false,
};
const EXCLUDED_SSN = '100000007'; // caregiver 7, excluded before round 5

const schemas: string[] = [];
after(() => dropSchemas(schemas));

async function excludeSsn(schema: string): Promise<void> {
  await withClient((c) => c.query(`INSERT INTO ${quoteIdent(schema)}."excluded_ssn" ("SSN") VALUES ($1)`, [` ${EXCLUDED_SSN} `]));
}

test(`soak: ${ROUNDS} runs over a changing warehouse end where one run from scratch ends`, async () => {
  const warehouse = join(tempDir(), 'soak.duckdb');
  await writeSynthetic(warehouse, SHAPE);
  const soak = uniqueSchema('soak');
  schemas.push(soak);
  await initSchema(soak);
  const totals = { inserted: 0, updated: 0, staleResolved: 0, exclusionResolved: 0, reopened: 0 };
  for (let r = 1; r <= ROUNDS; r++) {
    if (r > 1) {
      const changes = roundChanges(r, hoursBefore(asOf(r), 3), SHAPE);
      await onWarehouse(warehouse, changes.statements);
      // The deleted visits' rows: another process marks them D (domain.md, "Status values").
      await withClient((c) =>
        c.query(
          `UPDATE ${quoteIdent(soak)}."conflictvisitmaps" SET "StatusFlag" = 'D'
            WHERE ("VisitID" = ANY ($1::uuid[]) OR "ConVisitID" = ANY ($1::uuid[])) AND coalesce("StatusFlag", 'U') NOT IN ('W', 'I')`,
          [changes.deleted],
        ),
      );
    }
    if (r === 5) await excludeSsn(soak);
    const run = await runJob(jobEnv(soak, warehouse, asOf(r)));
    assert.equal(run.code, 0, `round ${r}: ${show(run)}`);
    assert.equal(await inProgressFlag(soak), 0);
    const s = run.report!.statistics;
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += s[k] ?? 0;
    assert.equal(s.rejected, 0, `round ${r}: nothing rejected`);
  }
  // The soak went through every kind of change.
  assert.ok(totals.inserted > 0 && totals.updated > 0 && totals.staleResolved > 0 && totals.exclusionResolved > 0 && totals.reopened > 0, JSON.stringify(totals));

  // From scratch at the last AS_OF: every visit is changed (a lookback longer than the data).
  const scratch = uniqueSchema('soak_scratch');
  schemas.push(scratch);
  await initSchema(scratch);
  await excludeSsn(scratch);
  const fresh = await runJob(jobEnv(scratch, warehouse, asOf(ROUNDS), { LOOKBACK_HOURS: '100000' }));
  assert.equal(fresh.code, 0, show(fresh));
  // U, N or NULL: open alike (re-opened rows are U again, rows another process set to N stay N)
  const open = (l: string) => l.split(' ').map((t, i) => (i === 2 ? 'open' : t)).join(' ');
  const expected = (await openConflicts(scratch)).map(open);
  const actual = (await openConflicts(soak)).map(open);
  assert.ok(expected.length > 500, `a meaningful end state: ${expected.length} open conflicts`);
  const missing = expected.filter((l) => !actual.includes(l));
  const extra = actual.filter((l) => !expected.includes(l));
  assert.deepEqual({ missing: missing.slice(0, 10), extra: extra.slice(0, 10), counts: [missing.length, extra.length] }, { missing: [], extra: [], counts: [0, 0] });
  const excludedOpen = await withClient(async (c) =>
    Number((await c.query(`SELECT count(*) AS n FROM ${quoteIdent(soak)}."conflictvisitmaps" WHERE btrim("SSN") = $1 AND coalesce("StatusFlag", 'U') IN ('U', 'N')`, [EXCLUDED_SSN])).rows[0].n),
  );
  assert.equal(excludedOpen, 0, 'nothing open for the excluded SSN');

  // Idempotence: once more at the last AS_OF, nothing changed: nothing written.
  const before = await tablesChecksum(soak);
  const again = await runJob(jobEnv(soak, warehouse, asOf(ROUNDS)));
  assert.equal(again.code, 0, show(again));
  const s = again.report!.statistics;
  assert.deepEqual([s.inserted, s.updated, s.staleResolved, s.exclusionResolved], [0, 0, 0, 0]);
  assert.deepEqual(await tablesChecksum(soak), before);
});

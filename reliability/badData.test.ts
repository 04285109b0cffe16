// Reliability: bad data in the warehouse and in the reference data (detection.md: "Reference
// data", "Filters shared by every step", "Coordinates", "Distance, time and travel"; sync.md:
// "Invalid rows", "Statistics every run reports"; operations.md: "Exit codes"). Each case is a
// small warehouse with the bad input next to one good conflict, run through the real program:
// the bad input is handled as the spec says, counted in the run report (RUN_REPORT_PATH) and the
// log, the good conflict is written, and the program never crashes.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { postgresIdent as quoteIdent } from '../src/sqlText.js';
import { caregiver, uid, writeWarehouse, type VisitSpec, type WarehouseSpec } from '../test/detection/warehouse.js';
import { uniqueSchema } from '../test/helpers/pg.js';
import { dropSchemas, inProgressFlag, initSchema, jobEnv, runJob, show, tablesChecksum, tempDir, withClient, type JobResult } from './helpers/job.js';

const T = '2026-02-14 12:00:00';
const DAY = '2026-02-13';
const schemas: string[] = [];
after(() => dropSchemas(schemas));

/** Two overlapping completed visits of caregiver `cg` at two providers: one conflict, both directions. */
function goodPair(n: number, cg = uid('c', 900 + n)): VisitSpec[] {
  return [
    { id: uid('v', 9000 + 2 * n), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'] },
    { id: uid('v', 9001 + 2 * n), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'] },
  ];
}

interface Case {
  schema: string;
  run: JobResult;
  /** CVM rows: VisitID, ConVisitID and the columns asked for, keyed `VisitID>ConVisitID`. */
  rows: Map<string, Record<string, unknown>>;
}

/** A fresh schema (init_db), then the job over `spec` at T; `prepare` may change the target first. */
async function runCase(name: string, spec: WarehouseSpec, prepare?: (schema: string) => Promise<void>, columns: string[] = []): Promise<Case> {
  const schema = uniqueSchema(`bad_${name}`);
  schemas.push(schema);
  await initSchema(schema);
  await prepare?.(schema);
  const path = await writeWarehouse(tempDir(), spec);
  const run = await runJob(jobEnv(schema, path, T));
  assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `a stack trace: the program crashed\n${show(run)}`);
  assert.ok(run.report, `no run report\n${show(run)}`);
  const cols = ['VisitID', 'ConVisitID', ...columns].map(quoteIdent).join(', ');
  const rows = await withClient(async (c) => (await c.query(`SELECT ${cols} FROM ${quoteIdent(schema)}."conflictvisitmaps"`)).rows as Array<Record<string, unknown>>);
  return { schema, run, rows: new Map(rows.map((r) => [`${r.VisitID}>${r.ConVisitID}`, r])) };
}

const key = (a: string, b: string) => `${a.toLowerCase()}>${b.toLowerCase()}`;

function assertGoodPairWritten(c: Case, n: number): void {
  const [a, b] = goodPair(n).map((v) => v.id);
  assert.ok(c.rows.has(key(a, b)) && c.rows.has(key(b, a)), `the good conflict is written\n${show(c.run)}`);
}

describe('bad data in the warehouse', () => {
  test('ids that are not UUIDs: the rows are rejected with the reason, counted and shown; the rest is written', async () => {
    const cg = uid('c', 1);
    const c = await runCase('ids', {
      visits: [
        { id: 'VISIT-0001', caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'] },
        { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'] },
        // a provider id that is not a UUID
        { id: uid('v', 3), caregiver: uid('c', 2), provider: 'AGENCY #7', date: DAY, visit: ['09:00', '11:00'] },
        { id: uid('v', 4), caregiver: uid('c', 2), provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'] },
        ...goodPair(0),
      ],
    });
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    assert.equal(c.rows.size, 2, 'only the good conflict');
    const s = c.run.report!.statistics;
    assert.equal(s.rejected, 4, JSON.stringify(s));
    const reasons = c.run.report!.rejects.map((r) => `${r.reason} (${r.count})`).join('; ');
    assert.match(reasons, /VisitID: not a UUID \(\d\)/);
    assert.match(reasons, /ProviderID: not a UUID \(\d\)/);
    const examples = c.run.report!.rejects.flatMap((r) => r.examples);
    assert.ok(examples.some((e) => e.VisitID === 'visit-0001' || e.ConVisitID === 'visit-0001'), JSON.stringify(examples));
    assert.match(c.run.stdout, /4 detected rows rejected as invalid/);
    assert.match(c.run.stdout, /rejected: VisitID visit-0001/);
  });

  test('text longer than its column: rejected with the column and the limit; the rest is written', async () => {
    const cg = uid('c', 1);
    const c = await runCase('long', {
      visits: [
        { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'] },
        { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'] },
        ...goodPair(0),
      ],
      caregivers: [caregiver(cg, '111-22-3333', { 'Caregiver Fullname': 'Ann '.repeat(60) }), caregiver(uid('c', 900), '999-88-7777')],
    });
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    assert.equal(c.rows.size, 2);
    assert.equal(c.run.report!.statistics.rejected, 2);
    assert.match(c.run.report!.rejects.map((r) => r.reason).join('; '), /AideName: longer than 101 characters/);
    assert.match(c.run.stdout, /AideName: longer than 101 characters \(2\)/);
  });

  test('NULL and blank SSNs: their visits are never paired; the rest is written', async () => {
    const visits: VisitSpec[] = [];
    for (const n of [1, 2]) {
      visits.push(
        { id: uid('v', 10 * n), caregiver: uid('c', n), provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'] },
        { id: uid('v', 10 * n + 1), caregiver: uid('c', n), provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'] },
      );
    }
    const c = await runCase('ssn', {
      visits: [...visits, ...goodPair(0)],
      caregivers: [caregiver(uid('c', 1), null), caregiver(uid('c', 2), '   '), caregiver(uid('c', 900), '999-88-7777')],
    });
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    assert.equal(c.rows.size, 2, 'no conflict for visits without an SSN');
    assert.equal(c.run.report!.statistics.changedVisits, 2, 'visits without an SSN are not even changed visits of a group');
  });

  test('a visit that ends before it starts: the gap is the smaller one, as the spec says; no crash', async () => {
    const cg = uid('c', 1);
    const far = (lat: number) => `${lat},-74.0`;
    const c = await runCase(
      'endbefore',
      {
        visits: [
          // ends (09:00) before it starts (10:00); the other visit 09:30–09:45: both "ends before the other starts" hold
          { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['10:00', '09:00'], outGps: far(40) },
          { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['09:30', '09:45'], outGps: far(41) },
          ...goodPair(0),
        ],
      },
      undefined,
      ['MinuteDiffBetweenSch', 'DistanceFlag'],
    );
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    const row = c.rows.get(key(uid('v', 1), uid('v', 2)));
    assert.ok(row, `the pair is a conflict by distance (rule 7)\n${show(c.run)}`);
    assert.equal(row.MinuteDiffBetweenSch, 15);
    assert.equal(row.DistanceFlag, 'Y');
  });

  test('placeholder timestamps (0001-01-01, 9999-12-31) in one group: no crash, the run completes', async () => {
    const cg = uid('c', 1);
    const c = await runCase('placeholder', {
      visits: [
        { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['0001-01-01 00:00:00', '0001-01-01 01:00:00'], outGps: '40,-74' },
        { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['9999-12-31 08:00:00', '9999-12-31 09:00:00'], outGps: '41,-74' },
        ...goodPair(0),
      ],
    });
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
  });

  test('GPS garbage: unusable text is counted, the next source is used, quoted numbers parse', async () => {
    const cg = uid('c', 1);
    const garbage = ['garbage', ',', '1e5,2', 'NaN,NaN', '91.0,10', '40.1,-73.9,5', 'Infinity,0'];
    // Each garbage text on a visit whose caregiver also works for another agency that day (at
    // another time, no position): only groups that can hold a pair are widened and have their GPS
    // read (performance.md), so each text is read, counted, and no conflict comes of it.
    const visits: VisitSpec[] = garbage.flatMap((g, i): VisitSpec[] => [
      { id: uid('v', 100 + i), caregiver: uid('c', 50 + i), provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'], outGps: g },
      { id: uid('v', 200 + i), caregiver: uid('c', 50 + i), provider: uid('a', 2), date: DAY, visit: ['14:00', '15:00'] },
    ]);
    const c = await runCase(
      'gps',
      {
        visits: [
          ...visits,
          // bad call-out text, usable call-in: the call-in position is used
          { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'], outGps: 'N/A', inGps: '40.25,-73.5' },
          // quotes and spaces around plain numbers: usable
          { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'], outGps: ' "40.5" , " -73.25" ', inGps: '' },
          ...goodPair(0),
        ],
      },
      undefined,
      ['PLatitude', 'PLongitude', 'ConPLatitude', 'ConPLongitude'],
    );
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    assert.equal(c.run.report!.statistics.unusableGpsValues, garbage.length + 1, JSON.stringify(c.run.report!.statistics));
    assert.match(c.run.stdout, new RegExp(`Unusable GPS values +${garbage.length + 1}\\b`));
    const row = c.rows.get(key(uid('v', 1), uid('v', 2)));
    assert.ok(row, show(c.run));
    assert.deepEqual([row.PLatitude, row.PLongitude, row.ConPLatitude, row.ConPLongitude].map(Number), [40.25, -73.5, 40.5, -73.25]);
  });

  test('duplicate visits (one Visit Id, two fact rows): one base visit, the duplicate counted, one row per key', async () => {
    const cg = uid('c', 1);
    const dup: VisitSpec = { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['09:00', '11:00'] };
    const c = await runCase('dup', {
      visits: [dup, { ...dup, raw: { 'Billed Hours': 9.5 } }, { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '12:00'] }, ...goodPair(0)],
    });
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    assert.equal(c.run.report!.statistics.duplicateSourceRowsDropped, 1);
    assert.match(c.run.stdout, /Duplicate source rows dropped +1\b/);
    assert.equal(c.rows.size, 4, 'one row per ordered pair');
    assert.equal(await withClient(async (db) => Number((await db.query(`SELECT count(DISTINCT ("VisitID", "ConVisitID")) AS n FROM ${quoteIdent(c.schema)}."conflictvisitmaps"`)).rows[0].n)), 4);
  });
});

describe('bad reference data in PostgreSQL', () => {
  const visits = (): WarehouseSpec => ({ visits: [...goodPair(0)] });

  test('a settings row without ExtraDistancePer: exit 1, a clear message, InProgressFlag 2, nothing written', async () => {
    let before: Awaited<ReturnType<typeof tablesChecksum>> | undefined;
    const c = await runCase('extra', visits(), async (schema) => {
      await withClient((db) => db.query(`UPDATE ${quoteIdent(schema)}."settings" SET "ExtraDistancePer" = NULL`));
      before = await tablesChecksum(schema);
    });
    assert.equal(c.run.code, 1, show(c.run));
    assert.match(c.run.stdout, /ERROR +task02_00_run_conflict_update: failed: .*"ExtraDistancePer" is NULL/);
    assert.match(c.run.stdout, /Status: failed \(.*ExtraDistancePer/);
    assert.equal(c.run.report!.status, 'failed');
    assert.equal(await inProgressFlag(c.schema), 2);
    assert.deepEqual(await tablesChecksum(c.schema), before);
  });

  test('no settings row: exit 1, a clear message, nothing written', async () => {
    let before: Awaited<ReturnType<typeof tablesChecksum>> | undefined;
    const c = await runCase('nosettings', visits(), async (schema) => {
      await withClient((db) => db.query(`DELETE FROM ${quoteIdent(schema)}."settings"`));
      before = await tablesChecksum(schema);
    });
    assert.equal(c.run.code, 1, show(c.run));
    assert.match(c.run.stdout, /Status: failed \(.*settings has no row/);
    assert.deepEqual(await tablesChecksum(c.schema), before);
  });

  test('an empty mph table: a warning, rule 7 never fires, travel figures NULL, the run completes', async () => {
    const cg = uid('c', 1);
    const c = await runCase(
      'mph',
      {
        visits: [
          // 1 hour apart, about 80 miles apart: rule 7 with the default bands, nothing else
          { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['08:00', '09:00'], outGps: '40.0,-74.0' },
          { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '11:00'], outGps: '41.0,-74.0' },
          // overlapping and far apart: rule 5, with distance but no speed and no ETA
          { id: uid('v', 3), caregiver: uid('c', 2), provider: uid('a', 1), date: DAY, visit: ['08:00', '09:00'], outGps: '40.0,-74.0' },
          { id: uid('v', 4), caregiver: uid('c', 2), provider: uid('a', 2), date: DAY, visit: ['08:30', '09:30'], outGps: '41.0,-74.0' },
        ],
      },
      (schema) => withClient((db) => db.query(`DELETE FROM ${quoteIdent(schema)}."mph"`)).then(() => undefined),
      ['DistanceFlag', 'DistanceMilesFromLatLng', 'AverageMilesPerHour', 'ETATravelMinutes'],
    );
    assert.equal(c.run.code, 0, show(c.run));
    assert.match(c.run.stdout, /WARNING +mph: no usable band/);
    assert.ok(!c.rows.has(key(uid('v', 1), uid('v', 2))), 'rule 7 did not fire');
    const row = c.rows.get(key(uid('v', 3), uid('v', 4)));
    assert.ok(row, show(c.run));
    assert.equal(row.DistanceFlag, 'N');
    assert.ok(Number(row.DistanceMilesFromLatLng) > 80);
    assert.equal(row.AverageMilesPerHour, null);
    assert.equal(row.ETATravelMinutes, null);
  });

  test('an absurd mph band (0.00001 mph): an ETA out of the column\'s range is a rejected row, not a failed run', async () => {
    const cg = uid('c', 1);
    const c = await runCase(
      'mphtiny',
      {
        visits: [
          // about 430 miles apart, 1 hour between: an ETA of billions of minutes
          { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['08:00', '09:00'], outGps: '40.0,-74.0' },
          { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '11:00'], outGps: '45.0,-74.0' },
          ...goodPair(0),
        ],
      },
      (schema) => withClient((db) => db.query(`UPDATE ${quoteIdent(schema)}."mph" SET "AverageMilesPerHour" = 0.00001`)).then(() => undefined),
    );
    assert.equal(c.run.code, 0, show(c.run));
    assertGoodPairWritten(c, 0);
    assert.equal(c.run.report!.statistics.rejected, 2, JSON.stringify(c.run.report!.statistics));
    assert.match(c.run.report!.rejects.map((r) => r.reason).join('; '), /ETATravelMinutes: out of range for int4/);
  });

  test('mph rows with NULLs are ignored with a warning; the usable bands still work', async () => {
    const cg = uid('c', 1);
    const c = await runCase(
      'mphnull',
      {
        visits: [
          { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: DAY, visit: ['08:00', '09:00'], outGps: '40.0,-74.0' },
          { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: DAY, visit: ['10:00', '11:00'], outGps: '41.0,-74.0' },
        ],
      },
      (schema) => withClient((db) => db.query(`INSERT INTO ${quoteIdent(schema)}."mph" ("From", "To", "AverageMilesPerHour") VALUES (0, NULL, 10), (NULL, 5, 10)`)).then(() => undefined),
      ['DistanceFlag'],
    );
    assert.equal(c.run.code, 0, show(c.run));
    assert.match(c.run.stdout, /WARNING +mph: 2 rows with a NULL From, To or AverageMilesPerHour ignored/);
    assert.equal(c.rows.get(key(uid('v', 1), uid('v', 2)))?.DistanceFlag, 'Y');
  });
});

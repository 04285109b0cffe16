// detection.md, "Session settings": the job pins, at the start of its warehouse session, every
// session setting its SQL depends on, so an account or user default cannot change a result; and a
// statement whose result lacks a column the job reads is an error naming the step and the column,
// never a silent 0. Proven with the real snowflake-sdk against the stand-in
// (test/helpers/snowflakeStandIn.ts), whose account defaults are the hostile ones.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDetectionRun } from '../../src/detection/detection.js';
import { StepError } from '../../src/errors.js';
import { RunRecorder } from '../../src/run/recorder.js';
import { onlyRow } from '../../src/warehouse/resultRow.js';
import type { WarehouseSession } from '../../src/warehouse/warehouse.js';
import { params, type ParamsOver } from '../detection/warehouse.js';
import { col, type ColumnSpec, type SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { captureLog, open, standIn } from './fixtures.js';

/** Account defaults that would break the job's SQL if the session kept them. */
const HOSTILE_ACCOUNT = {
  QUOTED_IDENTIFIERS_IGNORE_CASE: true,
  TIMESTAMP_INPUT_FORMAT: 'MM/DD/YYYY HH24:MI:SS',
  DATE_INPUT_FORMAT: 'DD/MM/YYYY',
  TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ',
};

/** Set first: result chunks as small as Snowflake makes them, so the driver's memory fits the heap cap. */
const CHUNK_SIZE = 'ALTER SESSION SET CLIENT_RESULT_CHUNK_SIZE = 16';
const PINS = [
  'ALTER SESSION SET QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE',
  "ALTER SESSION SET TIMESTAMP_INPUT_FORMAT = 'AUTO'",
  "ALTER SESSION SET DATE_INPUT_FORMAT = 'AUTO'",
  "ALTER SESSION SET TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_NTZ'",
];

const TAG = 'conflict-updater task02_00_run_conflict_update run-5678';

describe('the Snowflake session pins the settings of detection.md', () => {
  let si: SnowflakeStandIn;
  before(async () => (si = await standIn({ accountParameters: HOSTILE_ACCOUNT })));
  after(() => si.close());

  test('with TIMEZONE: the result chunk size, the four settings, then the zone, before any other statement; the query tag at login', async () => {
    const n = si.statements.length;
    const wh = await open(si, { timezone: 'America/Chicago', queryTag: TAG });
    try {
      await wh.version();
    } finally {
      await wh.close();
    }
    const sent = si.statements.slice(n).map((s) => s.sql);
    assert.deepEqual(sent.slice(0, 6), [CHUNK_SIZE, ...PINS, "ALTER SESSION SET TIMEZONE = 'America/Chicago'"]);
    assert.equal(si.logins.at(-1)?.sessionParameters.QUERY_TAG, TAG);
    const held = si.sessionParameters(si.sessionTokens.at(-1)!);
    assert.deepEqual(
      {
        QUOTED_IDENTIFIERS_IGNORE_CASE: held?.QUOTED_IDENTIFIERS_IGNORE_CASE,
        TIMESTAMP_INPUT_FORMAT: held?.TIMESTAMP_INPUT_FORMAT,
        DATE_INPUT_FORMAT: held?.DATE_INPUT_FORMAT,
        TIMESTAMP_TYPE_MAPPING: held?.TIMESTAMP_TYPE_MAPPING,
        TIMEZONE: held?.TIMEZONE,
        QUERY_TAG: held?.QUERY_TAG,
      },
      { QUOTED_IDENTIFIERS_IGNORE_CASE: false, TIMESTAMP_INPUT_FORMAT: 'AUTO', DATE_INPUT_FORMAT: 'AUTO', TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_NTZ', TIMEZONE: 'America/Chicago', QUERY_TAG: TAG },
      "what the account holds for the session: the account's defaults overridden",
    );
  });

  test("without TIMEZONE: the same settings, and the account's zone stays", async () => {
    const n = si.statements.length;
    const wh = await open(si);
    await wh.close();
    assert.deepEqual(si.statements.slice(n).map((s) => s.sql), [CHUNK_SIZE, ...PINS]);
    assert.equal(si.sessionParameters(si.sessionTokens.at(-1)!)?.TIMEZONE, 'America/Los_Angeles');
  });

  test('a setting the account refuses fails the open with its name, and the session is logged out', async () => {
    si.on(/^ALTER SESSION SET TIMESTAMP_TYPE_MAPPING/, {
      error: { code: '003001', message: 'SQL access control error:\nInsufficient privileges to operate on session parameter', sqlState: '42501' },
    });
    const err = await open(si).then(
      () => assert.fail('the open should fail'),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, /^TIMESTAMP_TYPE_MAPPING "TIMESTAMP_NTZ": Snowflake SQL access control error: Insufficient privileges/);
    assert.equal(si.logouts.at(-1)?.sessionToken, si.sessionTokens.at(-1));
  });
});

/** Counts as Snowflake returns them: NUMBER columns. */
const counts = (names: string[], values: string[]) => ({ columns: names.map((n): ColumnSpec => col(n, 'fixed', { precision: 18 })), rows: [values] });
const STEP1 = /^SELECT COUNT\(\*\) AS "groups"/;
const STEP2 = /^SELECT COUNT\(\*\) AS "rows"/;

/** A detection run's steps 0–2 on a fresh session of `si`; the recorder's statistics and the failure, if any. */
async function prepare(si: SnowflakeStandIn, over: ParamsOver = {}): Promise<{ stats: Record<string, number>; error: unknown }> {
  const { log } = captureLog();
  const wh: WarehouseSession = await open(si, { log });
  const recorder = new RunRecorder(log);
  try {
    const run = createDetectionRun(wh, params(over), { database: 'ANALYTICS', schema: 'BI', recorder, log });
    // Step 1's narrow pass (comprehensive mode), answered alike in every case.
    si.on(/^SELECT COUNT\(\*\) AS "pair_groups"/, counts(['pair_groups', 'pair_visits'], ['1', '2']));
    await run.prepare();
    return { stats: { ...recorder.stats }, error: undefined };
  } catch (error) {
    return { stats: { ...recorder.stats }, error };
  } finally {
    await wh.close();
  }
}

describe('a result missing a column the job reads fails the step with its name and the column (detection.md)', () => {
  test('pinned on an account that ignores the case of quoted names: the statistics read as written', async () => {
    const si = await standIn({ accountParameters: HOSTILE_ACCOUNT });
    try {
      si.on(STEP1, counts(['groups', 'ssns', 'dates', 'changed'], ['3', '2', '1', '4']));
      si.on(STEP2, counts(['rows', 'candidates', 'dropped', 'gps_bad'], ['5', '4', '1', '2']));
      const r = await prepare(si);
      assert.equal(r.error, undefined);
      assert.equal(r.stats.affectedGroups, 3);
      assert.equal(r.stats.changedVisits, 4);
      assert.equal(r.stats.candidatesPartA, 4);
      assert.equal(r.stats.unusableGpsValues, 4, 'parts A and B');
    } finally {
      await si.close();
    }
  });

  const cases: Array<{ name: string; step: string; column: string; over?: ParamsOver; answer: (si: SnowflakeStandIn) => void }> = [
    {
      name: 'Step 1 statistics with upper-cased aliases (QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE)',
      step: 'Step 1 (delta_keys)',
      column: 'groups',
      answer: (si) => si.on(STEP1, counts(['GROUPS', 'SSNS', 'DATES', 'CHANGED'], ['3', '2', '1', '4'])),
    },
    {
      name: 'Step 2a statistics without gps_bad',
      step: 'Step 2a (base_visits changed)',
      column: 'gps_bad',
      answer: (si) => {
        si.on(STEP1, counts(['groups', 'ssns', 'dates', 'changed'], ['3', '2', '1', '4']));
        si.on(STEP2, counts(['rows', 'candidates', 'dropped', 'GPS_BAD'], ['5', '4', '0', '7']));
      },
    },
    {
      name: 'the clock read as "T"',
      step: 'Clock',
      column: 't',
      over: { asOf: undefined },
      answer: (si) => si.on(/CURRENT_TIMESTAMP\(\)::TIMESTAMP_NTZ/, { columns: [col('T', 'text')], rows: [['2026-02-14 06:00:00.000000']] }),
    },
  ];
  for (const c of cases) {
    test(`${c.name}: "${c.step}" fails naming "${c.column}", no statistic recorded as 0`, async () => {
      const si = await standIn();
      try {
        c.answer(si);
        const r = await prepare(si, c.over);
        assert.ok(r.error instanceof StepError, String(r.error));
        assert.equal(r.error.step, c.step);
        assert.match(r.error.message, new RegExp(`^${c.step.replace(/[()]/g, '\\$&')}: the warehouse result has no column "${c.column}" \\(its columns: `));
        assert.match(r.error.message, /QUOTED_IDENTIFIERS_IGNORE_CASE/);
        if (c.step === 'Step 1 (delta_keys)') assert.equal(r.stats.affectedGroups, undefined);
        if (c.step === 'Step 2a (base_visits changed)') {
          assert.equal(r.stats.affectedGroups, 3, 'step 1 read');
          assert.equal(r.stats.candidatesPartA, undefined);
          assert.equal(r.stats.unusableGpsValues, 0, 'the reset value, not a statistic read as 0');
        }
      } finally {
        await si.close();
      }
    });
  }

  test('version() on an answer with another column name fails naming "version"', async () => {
    const si = await standIn();
    try {
      si.on(/^SELECT CURRENT_VERSION\(\)/, { columns: [col('VERSION', 'text')], rows: [['9.99.0']] });
      const wh = await open(si);
      try {
        await assert.rejects(wh.version(), /^StepError: Snowflake version: the warehouse result has no column "version" \(its columns: "VERSION"\)/);
      } finally {
        await wh.close();
      }
    } finally {
      await si.close();
    }
  });

  test('onlyRow: no row is an error naming the step; a NULL value is NULL', () => {
    assert.throws(() => onlyRow('Step 1 (delta_keys)', []), /^StepError: Step 1 \(delta_keys\): the warehouse returned no row where one was expected$/);
    assert.equal(onlyRow('Step 1 (delta_keys)', [{ changed: null }])('changed'), null);
  });
});

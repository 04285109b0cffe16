import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  edgeScenarios,
  generateWarehouse,
  mutateWarehouse,
  PLACEHOLDER_SSNS,
  PROFILES,
  type GenerateSummary,
} from '../../src/generate/generate.js';
import { WAREHOUSE_COLUMNS } from '../../src/schema/columns.js';
import { tempDir } from '../helpers/tmp.js';

const AS_OF = '2026-02-15 06:30:00';
const T = `TIMESTAMP '${AS_OF}'`;
const FACT = 'BI.FACTVISITCALLPERFORMANCE_CR';
const TABLES = [...new Set(WAREHOUSE_COLUMNS.map((c) => c.table))];

async function withDb<R>(path: string, fn: (c: DuckDBConnection) => Promise<R>): Promise<R> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function rows(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function count(c: DuckDBConnection, sql: string): Promise<number> {
  const r = await c.runAndReadAll(sql);
  return Number(r.getRows()[0]![0]);
}

/** Order-independent checksum of every warehouse table. */
async function checksums(path: string): Promise<Record<string, string>> {
  return withDb(path, async (c) => {
    const out: Record<string, string> = {};
    for (const t of TABLES) {
      const [r] = await rows(
        c,
        `SELECT count(*) AS n, md5(coalesce(string_agg(h, ',' ORDER BY h), '')) AS m FROM (SELECT md5(t::VARCHAR) AS h FROM BI."${t}" t)`,
      );
      out[t] = `${String(r!.n)}:${String(r!.m)}`;
    }
    return out;
  });
}

/** Visits joined to their caregiver's trimmed SSN (one SSN per caregiver id). */
const VISITS = `(SELECT f.*, trim(c.ssn) AS ssn FROM ${FACT} f
  JOIN (SELECT "Caregiver Id", min("SSN") AS ssn FROM BI.DIMCAREGIVER GROUP BY 1) c USING ("Caregiver Id"))`;
/** Ordered pairs of visits of one SSN on one day at two agencies. */
const PAIRS = `(SELECT a."Visit Id" AS v1, b."Visit Id" AS v2,
    a."Scheduled Start Time" AS ss1, a."Scheduled End Time" AS se1, b."Scheduled Start Time" AS ss2, b."Scheduled End Time" AS se2,
    a."Visit Start Time" AS vs1, a."Visit End Time" AS ve1, b."Visit Start Time" AS vs2, b."Visit End Time" AS ve2,
    a."Visit Start Time" IS NULL AND a."Visit End Time" IS NULL AS u1, b."Visit Start Time" IS NULL AND b."Visit End Time" IS NULL AS u2,
    a."Call Out GPS Coordinates" AS g1, b."Call Out GPS Coordinates" AS g2, a."Provider Id" AS p1, b."Provider Id" AS p2
  FROM ${VISITS} a JOIN ${VISITS} b ON a.ssn = b.ssn AND a."Visit Date" = b."Visit Date"
    AND a."Provider Id" <> b."Provider Id" AND a."Visit Id" <> b."Visit Id"
  WHERE a.ssn <> '')`;

describe('generateWarehouse (small profile)', () => {
  let dir: string;
  let path: string;
  let summary: GenerateSummary;

  before(async () => {
    dir = tempDir('gen-test-');
    path = join(dir, 'warehouse.duckdb');
    writeFileSync(path, 'not a database: the generator overwrites it');
    summary = await generateWarehouse({ profile: 'small', seed: 7, out: path, asOf: AS_OF });
  });

  it('writes only the target file (temporary file renamed, nothing left over)', () => {
    assert.deepEqual(readdirSync(dir).sort(), ['warehouse.duckdb']);
    assert.equal(summary.out, path);
    assert.equal(summary.profile, 'small');
    assert.equal(summary.seed, 7);
    assert.equal(summary.asOf, AS_OF);
    assert.ok(summary.seconds > 0);
  });

  it('has exactly the tables, columns and DuckDB types of warehouse-columns.tsv in schema BI', async () => {
    const expected = WAREHOUSE_COLUMNS.map((c) => {
      const type = c.duckdbType.startsWith('VARCHAR') ? 'VARCHAR' : c.duckdbType.startsWith('TIMESTAMP') ? 'TIMESTAMP' : c.duckdbType;
      return `${c.table}|${c.column}|${type}`;
    }).sort();
    await withDb(path, async (c) => {
      const actual = (await rows(c, `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database()`))
        .map((r) => {
          assert.equal(r.table_schema, 'BI');
          return `${String(r.table_name)}|${String(r.column_name)}|${String(r.data_type)}`;
        })
        .sort();
      assert.deepEqual(actual, expected);
      assert.equal(await count(c, `SELECT count(*) FROM duckdb_views() WHERE NOT internal`), 0);
      assert.equal(await count(c, `SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal`), 0);
    });
  });

  it('reports sizes that match the tables', async () => {
    await withDb(path, async (c) => {
      assert.equal(summary.visits, await count(c, `SELECT count(*) FROM ${FACT}`));
      assert.ok(summary.visits > 4_000 && summary.visits < 8_000, `small has thousands of visits (${summary.visits})`);
      assert.equal(summary.providers, await count(c, `SELECT count(DISTINCT "Provider Id") FROM BI.DIMPROVIDER`));
      assert.equal(summary.caregivers, await count(c, `SELECT count(DISTINCT trim("SSN")) FROM BI.DIMCAREGIVER WHERE trim("SSN") <> ''`));
      assert.equal(summary.changedVisits, await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Updated Timestamp" >= ${T} - INTERVAL 36 HOUR`));
    });
  });

  it('ids are UUID text, some upper-case, and every fact reference resolves', async () => {
    await withDb(path, async (c) => {
      const uuid = `'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE NOT regexp_full_match("Visit Id", ${uuid})`), 0);
      assert.equal(await count(c, `SELECT count(*) - count(DISTINCT "Visit Id") FROM ${FACT}`), 0, 'visit ids are unique');
      for (const [table, col] of [[FACT, 'Visit Id'], [FACT, 'Provider Id'], [FACT, 'Caregiver Id'], ['BI.DIMPATIENT', 'Patient Id'], ['BI.DIMPAYER', 'Payer Id']] as const) {
        assert.ok(await count(c, `SELECT count(*) FROM ${table} WHERE "${col}" <> lower("${col}")`) > 0, `upper-case ${col}`);
      }
      for (const [col, dim, dimCol] of [
        ['Caregiver Id', 'DIMCAREGIVER', 'Caregiver Id'], ['Provider Id', 'DIMPROVIDER', 'Provider Id'],
        ['Provider Patient Id', 'DIMPATIENT', 'Patient Id'], ['Payer Patient Id', 'DIMPATIENT', 'Patient Id'],
        ['Office Id', 'DIMOFFICE', 'Office Id'], ['Payer Id', 'DIMPAYER', 'Payer Id'], ['Contract Id', 'DIMCONTRACT', 'Contract Id'],
        ['Service Code Id', 'DIMSERVICECODE', 'Service Code Id'],
      ] as const) {
        const missing = await count(c, `SELECT count(*) FROM ${FACT} f WHERE f."${col}" IS NOT NULL AND f."${col}" NOT IN (SELECT "${dimCol}" FROM BI.${dim})`);
        assert.equal(missing, 0, `${col} resolves in ${dim}`);
      }
      // a few updates come from users missing in DIMUSER, some have none
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Updated User Id" NOT IN (SELECT "User Id" FROM BI.DIMUSER)`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Updated User Id" IN (SELECT "User Id" FROM BI.DIMUSER)`) > 0);
    });
  });

  it('caregivers have one SSN each and are shared by 1–3 agencies, with 1–4 visits a day', async () => {
    await withDb(path, async (c) => {
      assert.equal(await count(c, `SELECT count(*) FROM (SELECT "Caregiver Id" FROM BI.DIMCAREGIVER GROUP BY 1 HAVING count(DISTINCT coalesce("SSN", '<null>')) > 1)`), 0);
      const agencies = await rows(c, `SELECT n, count(*) AS people FROM (
          SELECT ssn, count(DISTINCT "Provider Id") AS n FROM ${VISITS}
          WHERE ssn <> '' AND ssn NOT IN ('000-00-0000', '999-99-9999') GROUP BY 1) GROUP BY 1 ORDER BY 1`);
      assert.deepEqual(agencies.map((r) => Number(r.n)), [1, 2, 3]);
      assert.ok(agencies.every((r) => Number(r.people) > 0));
      const perDay = await rows(c, `SELECT n, count(*) AS days FROM (
          SELECT ssn, "Visit Date", count(*) AS n FROM ${VISITS}
          WHERE ssn <> '' AND ssn NOT IN ('000-00-0000', '999-99-9999') GROUP BY ALL) GROUP BY 1 ORDER BY 1`);
      assert.deepEqual(perDay.map((r) => Number(r.n)), [1, 2, 3, 4]);
      // one person, several caregiver rows (one per agency) with the same SSN
      assert.ok(await count(c, `SELECT count(*) FROM (SELECT trim("SSN") FROM BI.DIMCAREGIVER WHERE trim("SSN") <> '' GROUP BY 1 HAVING count(DISTINCT "Caregiver Id") >= 3)`) > 0);
    });
  });

  it('has scheduled future visits without visit times and completed past visits with call times', async () => {
    await withDb(path, async (c) => {
      const future = `"Visit Date" > ${T}::DATE::TIMESTAMP`;
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE ${future} AND "Visit Start Time" IS NULL AND "Visit End Time" IS NULL AND "Scheduled Start Time" IS NOT NULL`) > 100);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE ${future} AND ("Visit Start Time" IS NOT NULL OR "Call In Time" IS NOT NULL)`), 0);
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Date" < ${T}::DATE::TIMESTAMP AND "Visit Start Time" IS NOT NULL AND "Visit End Time" IS NOT NULL AND "Call In Time" IS NOT NULL AND "Call Out Time" IS NOT NULL`) > 1_000);
      // unconfirmed past visits, and visits in progress (a start, no end)
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Date" < ${T}::DATE::TIMESTAMP AND "Visit Start Time" IS NULL AND NOT coalesce("Is Missed", false)`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Start Time" IS NOT NULL AND "Visit End Time" IS NULL`) > 0);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Scheduled End Time" <= "Scheduled Start Time" OR "Visit End Time" <= "Visit Start Time"`), 0);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Scheduled Start Time"::DATE <> "Visit Date"::DATE`), 0);
    });
  });

  it('spreads visit dates over the detection window, most of them in recent months, a few outside', async () => {
    await withDb(path, async (c) => {
      const [r] = await rows(c, `SELECT
          count(*) FILTER (WHERE "Visit Date" >= ${T}::DATE - INTERVAL 90 DAY AND "Visit Date" <= ${T}::DATE) AS recent,
          count(*) FILTER (WHERE "Visit Date" >= ${T}::DATE - INTERVAL 455 DAY AND "Visit Date" < ${T}::DATE - INTERVAL 365 DAY) AS year_ago,
          count(*) FILTER (WHERE "Visit Date" > ${T}::DATE AND "Visit Date" <= ${T}::DATE + INTERVAL 45 DAY) AS future,
          count(*) FILTER (WHERE "Visit Date" < (${T} - INTERVAL 2 YEAR)::DATE) AS before_window,
          count(*) FILTER (WHERE "Visit Date" > (${T} + INTERVAL 45 DAY)::DATE) AS after_window,
          count(*) FILTER (WHERE "Visit Date" = (${T} - INTERVAL 2 YEAR)::DATE) AS first_day,
          count(*) FILTER (WHERE "Visit Date" = (${T} + INTERVAL 45 DAY)::DATE) AS last_day,
          count(DISTINCT "Visit Date") AS dates
        FROM ${FACT}`);
      assert.ok(Number(r!.recent) > 3 * Number(r!.year_ago), `recent ${String(r!.recent)} vs a year ago ${String(r!.year_ago)}`);
      for (const k of ['future', 'before_window', 'after_window', 'first_day', 'last_day']) assert.ok(Number(r![k]) > 0, k);
      assert.ok(Number(r!.dates) > 500);
    });
  });

  it('has overlapping and identical times across agencies, and travel-impossible pairs', async () => {
    await withDb(path, async (c) => {
      const n = (where: string) => count(c, `SELECT count(*) FROM ${PAIRS} WHERE ${where}`);
      assert.ok(await n(`u1 AND u2 AND ss1 = ss2 AND se1 = se2`) > 0, 'identical scheduled times');
      assert.ok(await n(`u1 AND u2 AND ss1 < se2 AND se1 > ss2 AND NOT (ss1 = ss2 AND se1 = se2)`) > 0, 'overlapping scheduled times');
      assert.ok(await n(`NOT u1 AND NOT u2 AND vs1 = vs2 AND ve1 = ve2`) > 0, 'identical visit times');
      assert.ok(await n(`vs1 < ve2 AND ve1 > vs2 AND NOT (vs1 = vs2 AND ve1 = ve2)`) > 0, 'overlapping visit times');
      assert.ok(await n(`u1 AND ve2 IS NOT NULL AND ss1 = vs2 AND se1 = ve2`) > 0, 'scheduled time = other visit time');
      assert.ok(await n(`u1 AND ve2 IS NOT NULL AND ss1 < ve2 AND se1 > vs2 AND NOT (ss1 = vs2 AND se1 = ve2)`) > 0, 'scheduled time overlaps other visit');
      // far apart (> 1 degree) with a small gap between the visits
      const lat = (g: string) => `try_cast(trim(split_part(replace(${g}, '"', ''), ',', 1)) AS DOUBLE)`;
      assert.ok(await n(`ve1 IS NOT NULL AND vs2 IS NOT NULL AND ve1 < vs2 AND datediff('minute', ve1, vs2) <= 45
        AND abs(${lat('g1')} - ${lat('g2')}) > 1 AND abs(${lat('g1')} - ${lat('g2')}) < 20`) > 0, 'travel-impossible pairs');
      // most pairs across agencies are not conflicts: non-overlapping visits of multi-agency caregivers
      assert.ok(await n(`ve1 < vs2 AND datediff('minute', ve1, vs2) >= 80`) > 0);
    });
  });

  it('writes GPS text in every form the spec names', async () => {
    await withDb(path, async (c) => {
      const all = `(SELECT "Call Out GPS Coordinates" AS g FROM ${FACT} UNION ALL SELECT "Call In GPS Coordinates" FROM ${FACT})`;
      const n = (where: string) => count(c, `SELECT count(*) FROM ${all} WHERE ${where}`);
      assert.ok(await n(`regexp_full_match(g, '-?[0-9]+\\.[0-9]+,-?[0-9]+\\.[0-9]+')`) > 100, 'plain');
      assert.ok(await n(`regexp_full_match(g, '"-?[0-9.]+","-?[0-9.]+"')`) > 0, 'quoted');
      assert.ok(await n(`regexp_full_match(g, ' -?[0-9.]+ , -?[0-9.]+ ')`) > 0, 'spaced');
      assert.ok(await n(`g = ','`) > 0, 'comma only');
      assert.ok(await n(`g = ''`) > 0, 'empty');
      assert.ok(await n(`g IS NULL`) > 0, 'NULL');
      for (const garbage of ['abc', '1,2,3', '91,0', '1e5,2']) assert.ok(await n(`g = '${garbage}'`) > 0, garbage);
    });
  });

  it('has patients with and without GPS addresses, several addresses each, equal and different zip codes', async () => {
    await withDb(path, async (c) => {
      const gps = `"Primary Address" AND "Address Type" LIKE '%GPS%'`;
      assert.ok(await count(c, `SELECT count(DISTINCT "Patient Id") FROM BI.DIMPATIENTADDRESS WHERE ${gps}`) > 100);
      assert.ok(await count(c, `SELECT count(*) FROM (SELECT DISTINCT "Patient Id" FROM BI.DIMPATIENT) p WHERE "Patient Id" NOT IN (SELECT "Patient Id" FROM BI.DIMPATIENTADDRESS WHERE ${gps})`) > 10);
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMPATIENTADDRESS WHERE "Address Type" = 'gps'`) > 0, 'lower-case gps does not match');
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMPATIENTADDRESS WHERE NOT "Primary Address" AND "Address Type" LIKE '%GPS%'`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM (SELECT "Patient Id" FROM BI.DIMPATIENTADDRESS WHERE ${gps} GROUP BY 1 HAVING count(DISTINCT "Application Created UTC Timestamp") > 1)`) > 0, 'several GPS addresses, different created times');
      assert.ok(await count(c, `SELECT count(*) FROM (SELECT "Patient Id" FROM BI.DIMPATIENTADDRESS WHERE ${gps} GROUP BY 1, "Application Created UTC Timestamp" HAVING count(*) > 1)`) > 0, 'tied created times');
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMPATIENTADDRESS WHERE ${gps} AND "Application Created UTC Timestamp" IS NULL`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMPATIENTADDRESS WHERE ${gps} AND "Latitude" IS NULL`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM (SELECT trim("Zip Code") FROM BI.DIMPATIENTADDRESS WHERE ${gps} AND trim("Zip Code") <> '' GROUP BY 1 HAVING count(DISTINCT "Patient Id") > 1)`) > 0, 'equal zips');
      assert.ok(await count(c, `SELECT count(DISTINCT trim("Zip Code")) FROM BI.DIMPATIENTADDRESS`) > 50, 'different zips');
    });
  });

  it('has inactive and demo providers, inactive payers, contracts and offices, and duplicate dimension rows', async () => {
    await withDb(path, async (c) => {
      const visitsAt = (where: string) => count(c, `SELECT count(*) FROM ${FACT} WHERE "Provider Id" IN (SELECT "Provider Id" FROM BI.DIMPROVIDER WHERE ${where})`);
      assert.ok(await visitsAt(`NOT "Is Active"`) > 0, 'visits at inactive providers');
      assert.ok(await visitsAt(`"Is Demo"`) > 0, 'visits at demo providers');
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMPAYER WHERE NOT "Is Active"`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMPAYER WHERE "Is Demo"`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMCONTRACT WHERE NOT "Is Active"`) > 0);
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMOFFICE WHERE NOT "Is Active"`) > 0);
      const dupActive = (table: string, id: string, extra = '') =>
        count(c, `SELECT count(*) FROM (SELECT "${id}" FROM BI.${table} WHERE "Is Active" ${extra} GROUP BY 1 HAVING count(*) > 1)`);
      assert.ok(await dupActive('DIMPAYER', 'Payer Id', 'AND NOT "Is Demo"') > 0, 'two active DIMPAYER rows for one payer');
      assert.ok(await dupActive('DIMPROVIDER', 'Provider Id', 'AND NOT "Is Demo"') > 0);
      assert.ok(await dupActive('DIMCONTRACT', 'Contract Id') > 0);
      for (const [table, id] of [['DIMPATIENT', 'Patient Id'], ['DIMCAREGIVER', 'Caregiver Id'], ['DIMSERVICECODE', 'Service Code Id'], ['DIMUSER', 'User Id']]) {
        assert.ok(await count(c, `SELECT count(*) FROM (SELECT "${id}" FROM BI.${table} GROUP BY 1 HAVING count(*) > 1)`) > 0, `duplicate ${table} rows`);
      }
    });
  });

  it('writes states as names and codes, and has cross-state pairs', async () => {
    await withDb(path, async (c) => {
      const states = `(SELECT "Address State" AS s FROM BI.DIMPROVIDER UNION ALL SELECT "Address State" FROM BI.DIMPATIENTADDRESS)`;
      for (const s of ['New York', 'NY', ' ny ', 'NEW JERSEY', 'NJ', 'LONG ISLAND', '']) {
        assert.ok(await count(c, `SELECT count(*) FROM ${states} WHERE s = '${s}'`) > 0, `state '${s}'`);
      }
      assert.ok(await count(c, `SELECT count(*) FROM ${states} WHERE s IS NULL`) > 0);
      const norm = (x: string) => `CASE upper(trim(${x})) WHEN 'NEW YORK' THEN 'NY' WHEN 'NEW JERSEY' THEN 'NJ' ELSE upper(trim(${x})) END`;
      const crossState = await count(c, `SELECT count(*) FROM ${PAIRS} p
        JOIN (SELECT DISTINCT "Provider Id", ${norm('"Address State"')} AS st FROM BI.DIMPROVIDER) a ON a."Provider Id" = p.p1
        JOIN (SELECT DISTINCT "Provider Id", ${norm('"Address State"')} AS st FROM BI.DIMPROVIDER) b ON b."Provider Id" = p.p2
        WHERE a.st = 'NY' AND b.st = 'NJ'`);
      assert.ok(crossState > 0, 'pairs at a New York and a New Jersey agency');
    });
  });

  it('has excluded, spaced and blank SSNs, missed visits and every ContractType case', async () => {
    await withDb(path, async (c) => {
      for (const ssn of PLACEHOLDER_SSNS) {
        assert.ok(await count(c, `SELECT count(*) FROM ${VISITS} WHERE ssn = '${ssn}'`) > 0, `visits of ${ssn}`);
      }
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMCAREGIVER WHERE "SSN" <> trim("SSN") AND trim("SSN") <> ''`) > 0, 'SSN with spaces');
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMCAREGIVER WHERE "SSN" IS NULL`) > 0, 'NULL SSN');
      assert.ok(await count(c, `SELECT count(*) FROM BI.DIMCAREGIVER WHERE "SSN" IS NOT NULL AND trim("SSN") = ''`) > 0, 'blank SSN');
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Is Missed" AND "Missed Visit Reason" IS NOT NULL AND "Visit Start Time" IS NULL`) > 0);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Billed" NOT IN ('yes', 'no') OR "Billed" IS NULL`), 0);
      assert.ok(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Billed" = 'yes'`) > 0);
      const ct = (where: string) => count(c, `SELECT count(*) FROM ${FACT} WHERE ${where}`);
      assert.ok(await ct(`"Application Payer Id" = 0 AND "Application Contract Id" <> 0`) > 0, 'Internal');
      assert.ok(await ct(`"Application Payer Id" <> 0 AND "Application Contract Id" <> 0`) > 0, 'UPR');
      assert.ok(await ct(`"Application Payer Id" <> 0 AND "Application Contract Id" = 0`) > 0, 'Payer');
      assert.ok(await ct(`"Application Payer Id" = 0 AND "Application Contract Id" = 0`) > 0, 'neither');
      assert.ok(await ct(`"Application Payer Id" IS NULL AND "Application Contract Id" IS NULL`) > 0, 'NULL ids');
    });
  });

  it('has visits changed within 36 hours of asOf (some after it), older ones and NULL update timestamps', async () => {
    await withDb(path, async (c) => {
      const [r] = await rows(c, `SELECT
          count(*) FILTER (WHERE "Visit Updated Timestamp" >= ${T} - INTERVAL 36 HOUR) AS changed,
          count(*) FILTER (WHERE "Visit Updated Timestamp" > ${T}) AS after_t,
          count(*) FILTER (WHERE "Visit Updated Timestamp" = ${T} - INTERVAL 36 HOUR) AS at_boundary,
          count(*) FILTER (WHERE "Visit Updated Timestamp" < ${T} - INTERVAL 36 HOUR) AS older,
          count(*) FILTER (WHERE "Visit Updated Timestamp" IS NULL) AS nulls,
          count(*) AS total
        FROM ${FACT}`);
      const total = Number(r!.total);
      assert.ok(Number(r!.changed) > total * 0.3 && Number(r!.changed) < total * 0.7, `changed ${String(r!.changed)} of ${total}`);
      for (const k of ['after_t', 'at_boundary', 'older', 'nulls']) assert.ok(Number(r![k]) > 0, k);
      // affected groups also hold unchanged visits
      assert.ok(await count(c, `SELECT count(*) FROM ${VISITS} v WHERE "Visit Updated Timestamp" < ${T} - INTERVAL 36 HOUR
        AND (ssn, "Visit Date") IN (SELECT (ssn, "Visit Date") FROM ${VISITS} WHERE "Visit Updated Timestamp" >= ${T} - INTERVAL 36 HOUR)`) > 0);
    });
  });

  it('holds every hand-crafted scenario', async () => {
    const scenarios = edgeScenarios(AS_OF);
    assert.ok(scenarios.length >= 40);
    assert.equal(new Set(scenarios.map((s) => s.name)).size, scenarios.length);
    await withDb(path, async (c) => {
      for (const s of scenarios) {
        const ids = s.visitIds.map((v) => `'${v}'`).join(', ');
        assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE lower("Visit Id") IN (${ids}) AND "Visit Date"::DATE = DATE '${s.visitDate}'`), s.visitIds.length, s.name);
        assert.match(s.expect, /^(conflict|none|not detected)/, s.name);
      }
    });
  });
});

describe('determinism', () => {
  let dir: string;
  before(() => {
    dir = tempDir('gen-det-');
  });

  it('the same seed and asOf give identical tables; another seed differs', async () => {
    const a = join(dir, 'a.duckdb');
    const b = join(dir, 'b.duckdb');
    const other = join(dir, 'other.duckdb');
    await generateWarehouse({ profile: 'small', seed: 42, out: a, asOf: AS_OF });
    await generateWarehouse({ profile: 'small', seed: 42, out: b, asOf: AS_OF });
    await generateWarehouse({ profile: 'small', seed: 43, out: other, asOf: AS_OF });
    const [ca, cb, co] = [await checksums(a), await checksums(b), await checksums(other)];
    assert.deepEqual(ca, cb);
    assert.equal(Object.keys(ca).length, 10);
    assert.notEqual(ca.FACTVISITCALLPERFORMANCE_CR, co.FACTVISITCALLPERFORMANCE_CR);
    assert.notEqual(ca.DIMCAREGIVER, co.DIMCAREGIVER);
  });

  it('rejects bad options before writing anything', async () => {
    const out = join(dir, 'bad.duckdb');
    await assert.rejects(generateWarehouse({ profile: 'small', seed: 1, out, asOf: '2026-02-15T06:30:00Z' }), /asOf/);
    await assert.rejects(generateWarehouse({ profile: 'huge' as 'small', seed: 1, out, asOf: AS_OF }), /profile/);
    await assert.rejects(generateWarehouse({ profile: 'small', seed: 1.5, out, asOf: AS_OF }), /seed/);
    assert.equal(existsSync(out), false);
  });
});

describe('mutateWarehouse', () => {
  let dir: string;
  let base: string;
  const AS_OF_2 = '2026-02-18 09:00:00';
  const T2 = `TIMESTAMP '${AS_OF_2}'`;

  before(async () => {
    dir = tempDir('gen-mut-');
    base = join(dir, 'base.duckdb');
    await generateWarehouse({ profile: 'small', seed: 5, out: base, asOf: AS_OF });
  });

  it('changes the stated number of visits, with update timestamps inside the lookback', async () => {
    const path = join(dir, 'm1.duckdb');
    copyFileSync(base, path);
    const before = await withDb(base, async (c) => ({
      total: await count(c, `SELECT count(*) FROM ${FACT}`),
      recent: await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Updated Timestamp" >= ${T2} - INTERVAL 36 HOUR`),
    }));
    assert.equal(before.recent, 0, 'nothing of the first generation is inside the second lookback');
    const { changedVisits } = await mutateWarehouse({ path, seed: 11, asOf: AS_OF_2, fraction: 0.05 });
    assert.equal(changedVisits, Math.round(before.total * 0.05));
    await withDb(path, async (c) => {
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT}`), before.total);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Updated Timestamp" >= ${T2} - INTERVAL 36 HOUR`), changedVisits);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} WHERE "Visit Updated Timestamp" > ${T2} OR "Visit Updated Timestamp" < ${T2} - INTERVAL 6 HOUR AND "Visit Updated Timestamp" >= ${T2} - INTERVAL 36 HOUR`), 0);
      // new times: the touched visits differ from the originals
      await c.run(`ATTACH '${base}' AS orig (READ_ONLY)`);
      const moved = await rows(c, `SELECT
          count(*) FILTER (WHERE m."Scheduled Start Time" <> o."Scheduled Start Time") AS retimed,
          count(*) FILTER (WHERE m."Visit Date" <> o."Visit Date") AS moved
        FROM ${FACT} m JOIN orig.BI.FACTVISITCALLPERFORMANCE_CR o USING ("Visit Id")
        WHERE m."Visit Updated Timestamp" >= ${T2} - INTERVAL 36 HOUR`);
      assert.ok(Number(moved[0]!.retimed) > changedVisits / 2, `retimed ${String(moved[0]!.retimed)}`);
      assert.ok(Number(moved[0]!.moved) > 0);
      assert.equal(await count(c, `SELECT count(*) FROM ${FACT} m JOIN orig.BI.FACTVISITCALLPERFORMANCE_CR o USING ("Visit Id")
        WHERE m."Visit Updated Timestamp" IS NOT DISTINCT FROM o."Visit Updated Timestamp" AND m."Scheduled Start Time" <> o."Scheduled Start Time"`), 0, 'untouched visits keep their times');
    });
  });

  it('is deterministic for a seed', async () => {
    const p1 = join(dir, 'd1.duckdb');
    const p2 = join(dir, 'd2.duckdb');
    copyFileSync(base, p1);
    copyFileSync(base, p2);
    const r1 = await mutateWarehouse({ path: p1, seed: 3, asOf: AS_OF_2, fraction: 0.1 });
    const r2 = await mutateWarehouse({ path: p2, seed: 3, asOf: AS_OF_2, fraction: 0.1 });
    assert.equal(r1.changedVisits, r2.changedVisits);
    assert.deepEqual(await checksums(p1), await checksums(p2));
  });

  it('fraction 0 changes nothing; a bad fraction is refused', async () => {
    const p = join(dir, 'z.duckdb');
    copyFileSync(base, p);
    assert.deepEqual(await mutateWarehouse({ path: p, seed: 1, asOf: AS_OF_2, fraction: 0 }), { changedVisits: 0 });
    assert.deepEqual(await checksums(p), await checksums(base));
    await assert.rejects(mutateWarehouse({ path: p, seed: 1, asOf: AS_OF_2, fraction: 2 }), /fraction/);
  });
});

describe('PROFILES', () => {
  it('medium is a tenth of prod, prod has at least 10 M visits, small thousands', () => {
    assert.ok(PROFILES.prod.visits >= 10_000_000);
    assert.equal(PROFILES.medium.visits * 10, PROFILES.prod.visits);
    assert.ok(PROFILES.small.visits >= 1_000 && PROFILES.small.visits < 10_000);
  });
});

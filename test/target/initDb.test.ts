// sync.md, "Target schema bootstrap": init_db creates what is missing, never alters what exists,
// and a second run changes nothing. Against the real PostgreSQL of the test run.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TARGET_TABLES } from '../../src/schema/columns.js';
import { initDb } from '../../src/target/initDb.js';
import { runCli } from '../helpers/cli.js';
import { dropSchema, testClient, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';

const schemas: string[] = [];
function newSchema(): string {
  const s = uniqueSchema('initdb');
  schemas.push(s);
  return s;
}
after(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** Everything init_db could touch, as comparable text. */
async function snapshot(schema: string): Promise<string> {
  const c = await testClient();
  try {
    const cols = await c.query(
      `SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default, is_identity
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const idx = await c.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`, [schema]);
    const settings = await c.query(`SELECT * FROM "${schema}"."settings" ORDER BY "ID"`).catch(() => ({ rows: [] }));
    const mph = await c.query(`SELECT "From", "To", "AverageMilesPerHour" FROM "${schema}"."mph" ORDER BY "ID"`).catch(() => ({ rows: [] }));
    return JSON.stringify({ cols: cols.rows, idx: idx.rows, settings: settings.rows, mph: mph.rows });
  } finally {
    await c.end();
  }
}

describe('init_db on an empty database', () => {
  const schema = newSchema();

  test('creates the schema, every table of target-tables.tsv with every column and type', async () => {
    const c = await testClient();
    try {
      const r = await initDb(c, schema);
      assert.equal(r.schemaCreated, true);
      assert.deepEqual(r.tablesCreated.sort(), Object.keys(TARGET_TABLES).sort());
      for (const [table, cols] of Object.entries(TARGET_TABLES)) {
        const got = await c.query(
          `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, a.attidentity AS identity
             FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [`"${schema}"."${table}"`],
        );
        const canon = (t: string) =>
          t.replace(/^int8$/, 'bigint').replace(/^int4$/, 'integer').replace(/^int2$/, 'smallint').replace(/^bool$/, 'boolean')
            .replace(/^varchar\((\d+)\)$/, 'character varying($1)').replace(/^timestamp$/, 'timestamp without time zone');
        assert.deepEqual(
          got.rows.map((r) => [r.name, r.type]),
          cols.map((col) => [col.name, canon(col.type)]),
          table,
        );
        for (const col of cols.filter((x) => x.default === 'identity')) {
          assert.notEqual(got.rows.find((r) => r.name === col.name)?.identity, '', `${table}.${col.name} is an identity`);
        }
        const pk = await c.query(
          `SELECT array_agg(a.attname::text ORDER BY a.attname::text) AS cols FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = to_regclass($1) AND i.indisprimary`,
          [`"${schema}"."${table}"`],
        );
        assert.deepEqual(pk.rows[0].cols, cols.filter((x) => x.primaryKey).map((x) => x.name).sort(), `${table} primary key`);
      }
    } finally {
      await c.end();
    }
  });

  test('one settings row (ID 0, ExtraDistancePer 1.25, InProgressFlag 0) and the default MPH bands', async () => {
    const c = await testClient();
    try {
      const s = await c.query(`SELECT "ID", "ExtraDistancePer", "InProgressFlag" FROM "${schema}"."settings"`);
      assert.deepEqual(s.rows, [{ ID: '0', ExtraDistancePer: 1.25, InProgressFlag: '0' }]);
      const m = await c.query(`SELECT "From", "To", "AverageMilesPerHour" FROM "${schema}"."mph" ORDER BY "From"`);
      assert.deepEqual(
        m.rows.map((r) => [Number(r.From), Number(r.To), r.AverageMilesPerHour]),
        [[0, 5, 15], [5, 10, 20], [10, 25, 30], [25, 100000, 45]],
      );
    } finally {
      await c.end();
    }
  });

  test('the four indexes of sync.md, the (SSN, VisitDate) one partial on InService/PTO rows', async () => {
    const c = await testClient();
    try {
      const r = await c.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'conflictvisitmaps' AND indexname NOT LIKE '%pkey'`, [schema]);
      const defs = r.rows.map((x) => x.indexdef as string).sort();
      assert.equal(defs.length, 4);
      assert.ok(defs.some((d) => d.endsWith('("VisitID", "ConVisitID")')), defs.join('\n'));
      assert.ok(defs.some((d) => d.endsWith('("CONFLICTID")')), defs.join('\n'));
      assert.ok(defs.some((d) => d.endsWith('("ConVisitID")')), defs.join('\n'));
      const partial = defs.find((d) => d.includes('("SSN", "VisitDate") WHERE'));
      assert.ok(partial, defs.join('\n'));
      for (const col of ['InserviceStartDate', 'InserviceEndDate', 'PTOStartDate', 'PTOEndDate', 'ConInserviceStartDate', 'ConInserviceEndDate', 'ConPTOStartDate', 'ConPTOEndDate']) {
        assert.match(partial, new RegExp(`"${col}" IS NULL`));
      }
    } finally {
      await c.end();
    }
  });

  test('running it twice changes nothing', async () => {
    const before = await snapshot(schema);
    const c = await testClient();
    try {
      const r = await initDb(c, schema);
      assert.deepEqual(r, { schemaCreated: false, tablesCreated: [], settingsRowCreated: false, mphBandsCreated: 0, indexesCreated: [], indexesBuiltConcurrently: [] });
    } finally {
      await c.end();
    }
    assert.equal(await snapshot(schema), before);
  });
});

describe('init_db next to existing tables', () => {
  test('never alters an existing table, keeps existing rows, honours an equivalent index', async () => {
    const schema = newSchema();
    const c = await testClient();
    try {
      await c.query(`CREATE SCHEMA "${schema}"`);
      // A production-like table with only some columns, and production's ("VisitDate", "SSN") partial index.
      await c.query(`CREATE TABLE "${schema}"."conflictvisitmaps" ("ID" bigserial PRIMARY KEY, "VisitID" uuid, "ConVisitID" uuid, "SSN" varchar(20), "VisitDate" date, "PTOStartDate" timestamp)`);
      await c.query(`CREATE INDEX prod_idx ON "${schema}"."conflictvisitmaps" ("VisitDate", "SSN") WHERE "PTOStartDate" IS NULL`);
      await c.query(`CREATE TABLE "${schema}"."settings" ("ID" int8 PRIMARY KEY, "ExtraDistancePer" real, "InProgressFlag" int8)`);
      await c.query(`INSERT INTO "${schema}"."settings" VALUES (7, 1.5, 0)`);
      await c.query(`CREATE TABLE "${schema}"."mph" ("ID" int8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "From" int8, "To" int8, "AverageMilesPerHour" real)`);
      await c.query(`INSERT INTO "${schema}"."mph" ("From", "To", "AverageMilesPerHour") VALUES (0, 1000, 33)`);

      const r = await initDb(c, schema);
      assert.equal(r.schemaCreated, false);
      assert.deepEqual(r.tablesCreated.sort(), ['conflicts', 'excluded_agency', 'excluded_ssn']);
      assert.equal(r.settingsRowCreated, false);
      assert.equal(r.mphBandsCreated, 0);
      assert.deepEqual(r.indexesCreated.sort(), ['cvm_convisit_idx', 'cvm_visit_convisit_idx']);

      const cols = await c.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'conflictvisitmaps'`, [schema]);
      assert.equal(cols.rows[0].n, 6, 'no column added to an existing table');
      const s = await c.query(`SELECT "ID", "ExtraDistancePer" FROM "${schema}"."settings"`);
      assert.deepEqual(s.rows, [{ ID: '7', ExtraDistancePer: 1.5 }]);
      const m = await c.query(`SELECT count(*)::int AS n FROM "${schema}"."mph"`);
      assert.equal(m.rows[0].n, 1);
    } finally {
      await c.end();
    }
  });

  test('a table holding rows gets its missing indexes built concurrently; an INVALID leftover is built again', async () => {
    const schema = newSchema();
    const c = await testClient();
    try {
      await initDb(c, schema);
      await c.query(`INSERT INTO "${schema}"."conflictvisitmaps" ("VisitID", "ConVisitID", "CONFLICTID") VALUES (gen_random_uuid(), gen_random_uuid(), 7)`);
      await c.query(`DROP INDEX "${schema}".cvm_conflictid_idx`);
      // What an interrupted CREATE INDEX CONCURRENTLY leaves: an index marked INVALID.
      await c.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)`, [`"${schema}".cvm_convisit_idx`]);

      const r = await initDb(c, schema);
      assert.deepEqual(r.indexesCreated.sort(), ['cvm_conflictid_idx', 'cvm_convisit_idx']);
      assert.deepEqual(r.indexesBuiltConcurrently.map((b) => b.name).sort(), ['cvm_conflictid_idx', 'cvm_convisit_idx']);
      assert.ok(r.indexesBuiltConcurrently.every((b) => b.seconds >= 0));
      const valid = await c.query(
        `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = to_regclass($1) AND c.relname IN ('cvm_conflictid_idx', 'cvm_convisit_idx') ORDER BY 1`,
        [`"${schema}"."conflictvisitmaps"`],
      );
      assert.deepEqual(valid.rows, [{ name: 'cvm_conflictid_idx', valid: true }, { name: 'cvm_convisit_idx', valid: true }]);
      const again = await initDb(c, schema);
      assert.deepEqual(again.indexesCreated, []);
    } finally {
      await c.end();
    }
  });

  test('the init_db action through the program: exit 0, what it created in the log', async () => {
    const schema = newSchema();
    const r = await runCli(['init_db'], testPostgresEnv(schema));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`Schema ${schema} created`));
    assert.match(r.stdout, /Tables created: conflicts, conflictvisitmaps, excluded_agency, excluded_ssn, mph, settings/);
    const again = await runCli(['init_db'], testPostgresEnv(schema));
    assert.equal(again.code, 0);
    assert.match(again.stdout, /All tables exist/);
    assert.match(again.stdout, /All indexes exist/);
  });
});

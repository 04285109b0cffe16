// operations.md, "Security": no personal data leaves the databases through the job. The real
// program runs on a warehouse whose personal values are all recognisable, with rejects of every
// personal source column, DEBUG logging, text and JSON logs, and a failed run; everything it
// wrote outside PostgreSQL (stdout, stderr, run reports, the EMF metrics line, the status email
// built from each report) is scanned for every one of those values.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { buildStatusEmail } from '../../src/report/email.js';
import type { RunReport } from '../../src/report/report.js';
import { address, caregiver, patient, provider, uid, writeWarehouse, type Row, type VisitSpec } from '../detection/warehouse.js';
import { dropSchema, testClient, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Longer than any personal column of conflictvisitmaps (varchar(500) at most): the row is rejected. */
const overflow = (token: string) => `${token}${'Q'.repeat(600)}`;

/** Personal source columns, by table: each gets its own conflicting pair in which only it overflows. */
const PERSONAL: ReadonlyArray<readonly [table: 'caregiver' | 'patient' | 'address' | 'provider', column: string]> = [
  ['caregiver', 'SSN'],
  ['caregiver', 'Caregiver Fullname'],
  ['caregiver', 'Caregiver Firstname'],
  ['caregiver', 'Caregiver Lastname'],
  ['patient', 'Patient Name'],
  ['patient', 'Patient Firstname'],
  ['patient', 'Patient Lastname'],
  ['patient', 'Medicaid Number'],
  ['address', 'Address Line 1'],
  ['address', 'Address Line 2'],
  ['address', 'City'],
  ['address', 'County'],
  ['address', 'Zip Code'],
  ['provider', 'Phone Number 1'],
];

/** Every recognisable personal value (or a distinctive part of it) the warehouse holds. */
const secrets: string[] = [];
function secret(v: string): string {
  secrets.push(v);
  return v;
}

let dir: string;
let warehouse: string;
const EXCLUDED_SSN = 'QzExcludedSsn77';

before(async () => {
  dir = tempDir('cu-pii-');
  const caregivers: Row[] = [];
  const patients: Row[] = [];
  const addresses: Row[] = [];
  const providers: Row[] = [];
  const visits: VisitSpec[] = [];
  // Pair 0 has no overflow at all: its rows are written, so the values do reach PostgreSQL.
  for (let i = 0; i <= PERSONAL.length; i++) {
    const n = String(i).padStart(2, '0');
    const bad = PERSONAL[i - 1] as (typeof PERSONAL)[number] | undefined;
    const val = (table: string, column: string, token: string) => (bad && bad[0] === table && bad[1] === column ? overflow(token) : token);
    const cg = uid('c', i + 1);
    const pt = uid('d', i + 1);
    const [pa, pb] = [uid('a', 2 * i + 1), uid('a', 2 * i + 2)];
    caregivers.push(
      caregiver(cg, val('caregiver', 'SSN', secret(`900-${n}-7341`)), {
        'Caregiver Fullname': val('caregiver', 'Caregiver Fullname', secret(`QzAideFull${n}`)),
        'Caregiver Firstname': val('caregiver', 'Caregiver Firstname', secret(`QzAideFirst${n}`)),
        'Caregiver Lastname': val('caregiver', 'Caregiver Lastname', secret(`QzAideLast${n}`)),
      }),
    );
    patients.push(
      patient(pt, {
        'Patient Name': val('patient', 'Patient Name', secret(`QzPatientName${n}`)),
        'Patient Firstname': val('patient', 'Patient Firstname', secret(`QzPatientFirst${n}`)),
        'Patient Lastname': val('patient', 'Patient Lastname', secret(`QzPatientLast${n}`)),
        'Medicaid Number': val('patient', 'Medicaid Number', secret(`QzMedicaid${n}`)),
      }),
    );
    addresses.push(
      address(uid('e', i + 1), pt, {
        'Address Line 1': val('address', 'Address Line 1', secret(`${n} QzQuokka Lane`)),
        'Address Line 2': val('address', 'Address Line 2', secret(`QzApartment${n}`)),
        City: val('address', 'City', secret(`QzVexhollow${n}`)),
        County: val('address', 'County', secret(`QzCounty${n}`)),
        'Zip Code': val('address', 'Zip Code', secret(`QzZip${n}`)),
        Latitude: Number(secret(`40.61${n}37`)),
        Longitude: Number(secret(`-73.82${n}91`)),
      }),
    );
    for (const p of [pa, pb]) {
      providers.push(provider(p, { 'Phone Number 1': val('provider', 'Phone Number 1', secret(`QzPhone${n}${p.slice(-2)}`)) }));
    }
    const gps = secret(`40.55${n}11,-73.91${n}22`);
    visits.push(
      { id: uid('v', 2 * i + 1), caregiver: cg, provider: pa, date: '2026-02-13', sch: ['09:00', '11:00'], visit: ['09:00', '11:00'], providerPatient: pt, payerPatient: pt, inGps: gps, outGps: gps },
      { id: uid('v', 2 * i + 2), caregiver: cg, provider: pb, date: '2026-02-13', sch: ['10:00', '12:00'], visit: ['10:00', '12:00'], providerPatient: pt, payerPatient: pt },
    );
  }
  secret(EXCLUDED_SSN);
  warehouse = await writeWarehouse(dir, { caregivers, patients, addresses, providers, visits });
});

function program(args: string[], schema: string, extra: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(testPostgresEnv(schema) as Record<string, string>),
    DUCKDB_PATH: warehouse,
    AS_OF: '2026-02-14T12:00:00',
    TIMEZONE: 'UTC',
    LOG_LEVEL: 'DEBUG',
    RUN_REPORT_PATH: join(dir, `${schema}-${args.join('-')}-${Date.now()}.json`),
    ...extra,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/conflict-updater.js', ...args], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The recognisable values found in `text`. */
function leaks(text: string): string[] {
  return secrets.filter((s) => text.includes(s));
}

test('operations.md Security: no personal value in any log line (DEBUG, text and JSON), run report, metrics line or status email', async () => {
  const schema = uniqueSchema('pii');
  const c = await testClient();
  try {
    const init = await program(['init_db'], schema, {});
    assert.equal(init.code, 0, init.out);
    await c.query(`INSERT INTO "${schema}"."excluded_ssn" ("SSN") VALUES ($1)`, [EXCLUDED_SSN]);

    const outputs: Array<{ name: string; text: string }> = [];
    const ok = await program(['task02_00_run_conflict_update'], schema, { LOG_FORMAT: 'text' });
    assert.equal(ok.code, 0, ok.out);
    outputs.push({ name: 'text log of a completed run', text: ok.out });
    // Every personal source column overflowed in its own pair: each such row was rejected, named by the
    // first detected column it feeds (the provider patient's, P_P*, for the patient's values).
    for (const column of [
      'SSN', 'AideName', 'AideFName', 'AideLName', 'P_PName', 'P_PFName', 'P_PLName', 'P_PMedicaidNumber',
      'P_PAddressL1', 'P_PAddressL2', 'P_PCity', 'P_PCounty', 'P_PZipCode', 'AgencyPhone',
    ]) {
      assert.match(ok.out, new RegExp(`\\b${column}: longer than \\d+ characters`), `a reject of ${column} is reported`);
    }
    // The values are real and did reach PostgreSQL (pair 0 was written): the scan below looks for what exists.
    const stored = await c.query(`SELECT t::text AS r FROM "${schema}"."conflictvisitmaps" t`);
    assert.ok(stored.rowCount! >= 2);
    const inDb = stored.rows.map((r) => r.r).join('\n');
    for (const s of ['900-00-7341', 'QzAideFull00', 'QzPatientName00', 'QzMedicaid00', '00 QzQuokka Lane', 'QzVexhollow00', 'QzZip00']) {
      assert.ok(inDb.includes(s), `${s} is stored in PostgreSQL`);
    }

    const failed = await program(['task02_00_run_conflict_update'], schema, { LOG_FORMAT: 'json', FAIL_ON_REJECTS: 'true' });
    assert.equal(failed.code, 1, failed.out);
    assert.match(failed.out, /FAIL_ON_REJECTS/);
    outputs.push({ name: 'JSON log of a failed run', text: failed.out });

    const reports = readdirSync(dir).filter((f) => f.startsWith(schema) && f.endsWith('.json'));
    assert.equal(reports.length, 3, `one report per run: ${reports.join(', ')}`);
    for (const f of reports) {
      const text = readFileSync(join(dir, f), 'utf8');
      outputs.push({ name: `run report ${f}`, text });
      const email = buildStatusEmail(JSON.parse(text) as RunReport, join(dir, f));
      outputs.push({ name: `status email of ${f}`, text: `${email.subject}\n${email.html}\n${email.text}` });
    }
    assert.ok(outputs.some((o) => /"_aws"/.test(o.text)), 'the EMF metrics line is among the scanned output');
    for (const o of outputs) assert.deepEqual(leaks(o.text), [], `personal values in the ${o.name}`);
  } finally {
    await c.end();
    await dropSchema(schema);
  }
});

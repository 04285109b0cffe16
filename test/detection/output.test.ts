// detection.md "Step 2" (one row per visit: duplicates from dimension fan-out settled by the base
// visit column order, and counted; the patient address chosen) and "Output" (DETECTED_COLUMNS
// order, the WarehouseRow text forms), base-visit-columns.tsv derivations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DETECTED_COLUMNS } from '../../src/schema/columns.js';
import { address, caregiver, detect, pair, patient, provider, uid, UNCHANGED, visitAt as at, type Row } from './warehouse.js';

const A = (n: number) => uid('a', n);
const V = (n: number) => uid('v', n);
const CG = uid('c', 1);
const PAYER = uid('b', 1);
const CONTRACT = uid('k', 1);
const payer = (id: string, name: string | null, more: Row = {}): Row => ({ 'Payer Id': id, 'Payer Name': name, 'Payer State': 'NY', 'Is Active': true, 'Is Demo': false, ...more });

describe('duplicates from dimension fan-out (detection.md, Step 2)', () => {
  test('two active DIMPAYER rows for one payer: one row per pair, the first by Contract, 2 source rows dropped', async () => {
    const r = await detect({
      visits: [at(1, 1, { payer: PAYER }), at(2, 2, { payer: PAYER, updated: UNCHANGED })],
      payers: [payer(PAYER, 'Zeta Care'), payer(PAYER, 'Alpha Care'), payer(PAYER, 'Aardvark (inactive)', { 'Is Active': false })],
    });
    assert.equal(r.rows.length, 2, 'at most one row per (VisitID, ConVisitID)');
    for (const row of r.rows) {
      assert.equal(row.Contract, 'Alpha Care');
      assert.equal(row.ConContract, 'Alpha Care');
    }
    assert.equal(r.stats.duplicateSourceRowsDropped, 2, 'one dropped row per visit; the inactive row never joined');
  });

  test('payer with a NULL name: Contract from DIMCONTRACT; payer and contract fan-out settled together', async () => {
    // Rows of the payer: ('Zulu', state A) and (NULL, state B); contract 'Beta'. Combined rows sort by
    // Contract = COALESCE(payer name, contract name): ('Beta', B) before ('Zulu', A).
    const r = await detect({
      visits: [at(1, 1, { payer: PAYER, contract: CONTRACT }), at(2, 2, { updated: UNCHANGED })],
      payers: [payer(PAYER, 'Zulu', { 'Payer State': 'A' }), payer(PAYER, null, { 'Payer State': 'B' })],
      contracts: [{ 'Contract Id': CONTRACT, 'Contract Name': 'Beta', 'Is Active': true }],
    });
    const row = r.byPair.get(pair(V(1), V(2)));
    assert.ok(row);
    assert.equal(row.Contract, 'Beta');
    assert.equal(row.PayerState, 'B');
    assert.equal(r.stats.duplicateSourceRowsDropped, 1);
  });

  test('duplicate DIMPATIENT rows: the first by the patient columns (NULLs last); product of fan-outs counted', async () => {
    const pp = uid('p', 1);
    const pa = uid('p', 2);
    const r = await detect({
      visits: [at(1, 1, { providerPatient: pp, payerPatient: pa }), at(2, 2, { updated: UNCHANGED })],
      patients: [patient(pp, { Status: 'B' }), patient(pp, { Status: 'A' }), patient(pa, { Status: null }), patient(pa, { Status: 'Z' })],
    });
    const row = r.byPair.get(pair(V(1), V(2)));
    assert.ok(row);
    assert.equal(row.P_PStatus, 'A');
    assert.equal(row.PA_PStatus, 'Z', 'NULLs last');
    assert.equal(r.stats.duplicateSourceRowsDropped, 3, '2 × 2 source rows, one kept');
  });

  test('two DIMCAREGIVER rows for one caregiver: the first by SSN; both SSNs are affected groups', async () => {
    const r = await detect({
      visits: [at(1, 1), at(2, 2, { updated: UNCHANGED })],
      caregivers: [caregiver(CG, 'SSN-B'), caregiver(CG, 'SSN-A')],
    });
    assert.equal(r.rows.length, 2);
    assert.equal(r.rows[0].SSN, 'SSN-A');
    assert.deepEqual(r.groups.map((g) => g[1]).sort(), ['SSN-A', 'SSN-B']);
    assert.equal(r.stats.duplicateSourceRowsDropped, 2, 'each visit fans out to both caregiver rows; one kept each');
  });

  test('a visit with two fact rows: the row sorting first by the base columns (BillRateNonBilled) is kept', async () => {
    const r = await detect({
      visits: [
        at(1, 1, { raw: { 'Bill Rate Non-Billed': 30, Billed: 'no' } }),
        at(1, 1, { raw: { 'Bill Rate Non-Billed': 10, Billed: 'no' } }),
        at(2, 2, { updated: UNCHANGED }),
      ],
    });
    assert.equal(r.rows.length, 2);
    const row = r.byPair.get(pair(V(1), V(2)));
    assert.equal(row?.BillRateBoth, 10);
    assert.equal(r.stats.duplicateSourceRowsDropped, 1);
  });

  test('the chosen address: latest created, NULL oldest, ties by the smallest Patient Address Id', async () => {
    const p1 = uid('p', 1);
    const p2 = uid('p', 2);
    const p3 = uid('p', 3);
    const r = await detect({
      visits: [at(1, 1, { providerPatient: p1 }), at(2, 2, { providerPatient: p2, updated: UNCHANGED }), at(3, 3, { providerPatient: p3, updated: UNCHANGED })],
      patients: [patient(p1), patient(p2), patient(p3)],
      addresses: [
        address(uid('d', 11), p1, { City: 'old', 'Application Created UTC Timestamp': '2024-01-01 00:00:00' }),
        address(uid('d', 12), p1, { City: 'new', 'Application Created UTC Timestamp': '2025-06-01 00:00:00' }),
        address(uid('d', 13), p1, { City: 'null', 'Application Created UTC Timestamp': null }),
        address(uid('d', 14), p1, { City: 'newest but not primary', 'Primary Address': false, 'Application Created UTC Timestamp': '2026-01-01 00:00:00' }),
        address(uid('d', 22), p2, { City: 'second id', 'Application Created UTC Timestamp': '2025-01-01 00:00:00' }),
        address(uid('d', 21), p2, { City: 'first id', 'Application Created UTC Timestamp': '2025-01-01 00:00:00' }),
        address(uid('d', 31), p3, { City: 'only NULL', 'Application Created UTC Timestamp': null }),
      ],
    });
    assert.equal(r.byPair.get(pair(V(1), V(2)))?.P_PCity, 'new');
    assert.equal(r.byPair.get(pair(V(2), V(1)))?.P_PCity, 'first id');
    assert.equal(r.byPair.get(pair(V(2), V(1)))?.P_PAddressID, uid('d', 21).toLowerCase());
    assert.equal(r.byPair.get(pair(V(3), V(1)))?.P_PCity, 'only NULL');
    assert.equal(r.stats.duplicateSourceRowsDropped, 0, 'choosing an address is not a fan-out');
  });
});

describe('output row (detection.md "Output", WarehouseRow contract, base-visit-columns.tsv)', () => {
  test('column order, text forms, lower-cased ids, flags, derived columns', async () => {
    const office = uid('o', 1);
    const sc = uid('s', 1);
    const user = uid('u', 1);
    const visits = [
      at(1, 1, {
        visit: ['09:00:00.123456', '10:00'],
        office,
        serviceCode: sc,
        user,
        payer: PAYER,
        raw: { 'Application Payer Id': 5, 'Application Contract Id': 0, 'Invoice Date': '2026-02-20 00:00:00', 'Application Visit Id': 9007199254740993n },
      }),
      at(2, 2, { updated: UNCHANGED, office: uid('o', 2), raw: { Billed: 'Yes', 'Application Payer Id': 0, 'Application Contract Id': 7 } }),
    ];
    const r = await detect({
      visits,
      providers: [provider(A(1), { 'Provider Name': 'First' }), provider(A(2))],
      offices: [
        { 'Office Id': office, 'Office Name': 'Main office', 'Is Active': true },
        { 'Office Id': uid('o', 2), 'Office Name': 'Closed office', 'Is Active': false },
      ],
      serviceCodes: [{ 'Service Code Id': sc, 'Service Code': 'HHA', 'Application Service Code Id': 77 }],
      users: [{ 'User Id': user, 'User Fullname': 'Clerk One' }],
      payers: [payer(PAYER, 'Payer One')],
    });
    assert.equal(r.raw[0].length, DETECTED_COLUMNS.length, 'every column of detected-columns.tsv');
    const row = r.byPair.get(pair(V(1), V(2)));
    const con = r.byPair.get(pair(V(2), V(1)));
    assert.ok(row && con);
    // Ids lower-cased; int8 as text (exact beyond 2^53); dates and timestamps as text.
    assert.equal(row.VisitID, V(1).toLowerCase());
    assert.equal(row.ConVisitID, V(2).toLowerCase());
    assert.equal(row.ProviderID, A(1).toLowerCase());
    assert.equal(row.CaregiverID, CG.toLowerCase());
    assert.equal(row.OfficeID, office.toLowerCase());
    assert.equal(row.ServiceCodeID, sc.toLowerCase());
    assert.equal(row.AppVisitID, '9007199254740993');
    assert.equal(row.AppServiceCodeID, '77');
    assert.equal(row.VisitDate, '2026-02-14');
    assert.equal(row.VisitStartTime, '2026-02-14 09:00:00.123456');
    assert.equal(row.VisitEndTime, '2026-02-14 10:00:00');
    assert.equal(row.ConVisitStartTime, '2026-02-14 09:00:00');
    assert.equal(row.BilledDate, '2026-02-20 00:00:00');
    assert.equal(row.LastUpdatedDate, '2026-02-14 06:00:00');
    // Flags and computed integers.
    assert.equal(row.VisitTimeOverAnotherVisitTimeFlag, 'Y');
    assert.equal(row.SameVisitTimeFlag, 'N', 'a fraction of a second makes the times differ');
    assert.equal(row.MinuteDiffBetweenSch, 0);
    assert.equal(row.IsMissed, false);
    // Derived columns.
    assert.equal(row.ProviderName, 'First');
    assert.equal(row.Office, 'Main office');
    assert.equal(con.Office, null, 'inactive office: NULL');
    assert.equal(row.ServiceCode, 'HHA');
    assert.equal(row.LastUpdatedBy, 'Clerk One');
    assert.equal(row.Contract, 'Payer One');
    assert.equal(row.ContractType, 'Payer');
    assert.equal(con.ContractType, 'Internal');
    assert.equal(row.BillRateBoth, 25.25, "Billed = 'yes': Billed Rate");
    assert.equal(con.BillRateBoth, 20.5, "Billed = 'Yes' is not 'yes': Bill Rate Non-Billed");
    assert.equal(row.AgencyContact, null);
    assert.equal(row.PName, null, 'always NULL');
    assert.equal(row.PStatus, null, 'always NULL');
  });

  test('ContractType: UPR when both ids are set, NULL when neither', async () => {
    const r = await detect({
      visits: [
        at(1, 1, { raw: { 'Application Payer Id': 3, 'Application Contract Id': 4 } }),
        at(2, 2, { updated: UNCHANGED, raw: { 'Application Payer Id': 0, 'Application Contract Id': 0 } }),
      ],
    });
    assert.equal(r.byPair.get(pair(V(1), V(2)))?.ContractType, 'UPR');
    assert.equal(r.byPair.get(pair(V(2), V(1)))?.ContractType, null);
  });
});

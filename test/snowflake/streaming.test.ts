// Large results stream with back-pressure (detection.md "Output": stream it to the client, never
// hold the whole result in memory; warehouse.ts: the next batch is fetched only when the consumer
// asks for it). The stand-in serves a multi-chunk JSON result lazily, as S3 serves Snowflake's
// result chunks, and notes how far the consumer had got when each chunk was requested.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, test } from 'node:test';
import type { WarehouseRow, WarehouseSession } from '../../src/warehouse/warehouse.js';
import { col, wire, type SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { open, standIn } from './fixtures.js';

const ROWS = 50_000;
const CHUNK_ROWS = 2_000;
const INLINE_ROWS = 2_000;
const BATCH = 1_000;
const PREFETCH = 2;
const PADDING = 'x'.repeat(800);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

let si: SnowflakeStandIn;
let wh: WarehouseSession;
before(async () => {
  si = await standIn();
  si.on(/FROM big/, {
    columns: [col('i', 'fixed', { precision: 38 }), col('visit_date', 'date'), col('pad', 'text')],
    rowCount: ROWS,
    chunkRows: CHUNK_ROWS,
    inlineRows: INLINE_ROWS,
    row: (i) => [wire.fixed(i), wire.date('2024-03-01'), `${i}-${PADDING}`],
  });
  si.on(/FROM medium/, {
    columns: [col('i', 'fixed', { precision: 38 }), col('updated', 'timestamp_ntz')],
    rowCount: 5_000,
    chunkRows: 1_000,
    inlineRows: 500,
    row: (i) => [wire.fixed(i), wire.ntz(`2024-03-01 10:00:${String(i % 60).padStart(2, '0')}.25`)],
  });
  wh = await open(si, {}, undefined, { resultPrefetch: PREFETCH });
});
after(async () => {
  await wh.close();
  await si.close();
});

test(`${ROWS} rows over ${Math.ceil((ROWS - INLINE_ROWS) / CHUNK_ROWS)} chunks arrive complete, in order, fetched as the consumer goes`, async () => {
  let consumed = 0;
  const seen: Array<{ index: number; consumed: number }> = [];
  si.onChunkRequest = (r) => seen.push({ index: r.index, consumed });
  const heapBefore = heapMb();
  let heapPeak = heapBefore;
  let batches = 0;
  let expected = 0;
  for await (const batch of wh.stream('SELECT i, visit_date, pad FROM big ORDER BY i', [], BATCH)) {
    batches++;
    assert.ok(batch.length === BATCH || consumed + batch.length === ROWS, `batches of ${BATCH} rows (last one may be short)`);
    for (const row of batch) {
      assert.equal(row.length, 3);
      assert.equal(row[0], String(expected), 'in order, none missing');
      expected++;
    }
    const last = batch.at(-1) as WarehouseRow;
    assert.equal(last[1], '2024-03-01');
    assert.equal(last[2], `${expected - 1}-${PADDING}`);
    consumed += batch.length;
    if (batches % 10 === 0) heapPeak = Math.max(heapPeak, heapMb());
    await new Promise((r) => setTimeout(r, 2)); // a slow consumer (writes to PostgreSQL)
  }
  si.onChunkRequest = undefined;
  assert.equal(consumed, ROWS);
  assert.equal(batches, ROWS / BATCH);

  const chunks = Math.ceil((ROWS - INLINE_ROWS) / CHUNK_ROWS);
  assert.deepEqual(seen.map((s) => s.index), [...Array(chunks).keys()], 'every chunk requested once, in order');
  // Lazy: chunk k is requested only once the consumer has taken all but the prefetch window
  // (the chunk being read plus PREFETCH ahead) before it. Fetched whole, every chunk would be
  // requested with nothing consumed.
  for (const { index, consumed: at } of seen) {
    const before = index === 0 ? 0 : INLINE_ROWS + (index - 1 - PREFETCH) * CHUNK_ROWS;
    assert.ok(at >= before - BATCH, `chunk ${index} requested after ${at} rows consumed (expected at least ~${before})`);
  }
  // Rows downloaded but not yet consumed never exceed the window: the chunk being read, the
  // prefetched ones, and the batch the consumer holds.
  for (const { index, consumed: at } of seen) {
    const downloaded = INLINE_ROWS + (index + 1) * CHUNK_ROWS;
    assert.ok(downloaded - at <= (PREFETCH + 2) * CHUNK_ROWS + BATCH, `chunk ${index}: ${downloaded - at} rows ahead of the consumer`);
  }
  // Heap: streaming grows it by well under what holding the whole result takes (measured here
  // by holding it), so the rows were not fetched whole. The chunk-request bounds above are the
  // precise check; this one guards against a buffer somewhere else.
  const streamingGrowth = heapPeak - heapBefore;
  const held: WarehouseRow[][] = [];
  const heapBeforeAll = heapMb();
  for await (const batch of wh.stream('SELECT i, visit_date, pad FROM big ORDER BY i', [], BATCH)) held.push(batch);
  const wholeResult = heapMb() - heapBeforeAll;
  assert.equal(held.length, ROWS / BATCH);
  assert.ok(
    streamingGrowth < 0.6 * wholeResult,
    `heap grew by ${streamingGrowth.toFixed(1)} MB while streaming; the whole result takes ${wholeResult.toFixed(1)} MB`,
  );
});

test('a consumer that stops early stops the downloads; the session goes on', async () => {
  const n = si.chunkRequests.length;
  let got = 0;
  for await (const batch of wh.stream('SELECT i FROM big', [], BATCH)) {
    got += batch.length;
    if (got >= 3 * BATCH) break;
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(si.chunkRequests.length - n <= PREFETCH + 1, `${si.chunkRequests.length - n} chunks requested for 3 batches`);
  assert.equal(await wh.version(), '9.99.0');
});

test('a statement may run while an earlier result is still being read (its rows come from chunks)', async () => {
  const it = wh.stream('SELECT i, updated FROM medium', [], 100)[Symbol.asyncIterator]();
  const first = await it.next();
  assert.deepEqual((first.value as WarehouseRow[])[0], ['0', '2024-03-01 10:00:00.25']);
  assert.equal(await wh.execute('CREATE OR REPLACE TEMPORARY TABLE later ("a" VARCHAR)'), undefined);
  let rows = (first.value as WarehouseRow[]).length;
  let last: WarehouseRow | undefined;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    rows += r.value.length;
    last = r.value.at(-1);
  }
  assert.equal(rows, 5_000);
  assert.deepEqual(last, ['4999', '2024-03-01 10:00:19.25']);
});

test('batch size 1 and a batch size larger than the result', async () => {
  si.on(/FROM small/, { columns: [col('a', 'text')], rows: [['1'], ['2'], ['3']] });
  const ones = [];
  for await (const b of wh.stream('SELECT a FROM small', [], 1)) ones.push(b);
  assert.deepEqual(ones, [[['1']], [['2']], [['3']]]);
  const all = [];
  for await (const b of wh.stream('SELECT a FROM small', [], 10_000)) all.push(b);
  assert.deepEqual(all, [[['1'], ['2'], ['3']]]);
  si.on(/FROM empty/, { columns: [col('a', 'text')], rows: [] });
  const none = [];
  for await (const b of wh.stream('SELECT a FROM empty', [], 10)) none.push(b);
  assert.deepEqual(none, []);
});

// operations.md "Logs": "progress every few seconds during long steps … On a terminal, long steps
// show a progress bar instead of progress lines": the sync's streams (groups, scope ids, detected
// rows) and its merge report through the one progress module (src/run/progress.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { detected, memoryLogger, runSync, setup, uuid, type Ctx } from './helpers.js';

let ctx: Ctx;
before(async () => {
  ctx = await setup('progress');
});
after(() => ctx.close());

const CLEAR = '\r\x1b[K';

test('operations.md Logs: on a terminal, the streams and the merge show a progress bar, cleared when each ends', async () => {
  const log = memoryLogger({ isTTY: true });
  await runSync(ctx, { detected: [detected(), detected()], groups: [['2026-02-14', '123456789']], scope: [uuid()], log });
  const raw = log.text;
  for (const bar of [
    `${CLEAR}Sync: affected groups (COPY): `,
    `${CLEAR}Sync: scope visits (COPY): `,
    `${CLEAR}Sync: staging (COPY): `,
    `${CLEAR}Sync: merge [`,
  ]) {
    assert.ok(raw.includes(bar), `a bar ${JSON.stringify(bar)} in ${JSON.stringify(raw.slice(0, 2000))}`);
  }
  assert.match(raw, /Sync: merge \[[#-]{30}\] +[\d.]+% \d\/9 steps/, 'the merge bar counts its nine steps');
  // What the terminal shows last: the text after the last erase of the last line.
  const lastLine = raw.split('\n').at(-1) ?? '';
  assert.equal(lastLine.slice(lastLine.lastIndexOf(CLEAR) + CLEAR.length), '', 'no bar is left on the terminal after the run');
});

test('operations.md Logs: off a terminal, no bar: plain lines only', async () => {
  const log = memoryLogger();
  await runSync(ctx, { detected: [detected()], log });
  const raw = log.text;
  assert.ok(!raw.includes('\r'), 'no carriage return (bar) in a log that is not a terminal');
  assert.ok(!log.lines.some((l) => /\[[#-]{30}\]/.test(l)), 'no bar drawn as a line');
  assert.ok(log.lines.some((l) => /Sync: staging \(COPY\): [\d.]+s, 1 detected rows/.test(l)), 'the step line with its count');
});

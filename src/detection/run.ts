// A detection run over one warehouse session: the statements of plan.ts, sent in order, each
// step timed in the recorder, the big results streamed with back-pressure (detection.md).
import { formatCount, formatDuration, type Logger } from '../log.js';
import { inStep as asStepError, type RunRecorder, type StepPart } from '../run/recorder.js';
import { onlyRow } from '../warehouse/resultRow.js';
import type { WarehouseRow, WarehouseSession, WarehouseValue } from '../warehouse/warehouse.js';
import type { PairGroupsStatements } from './affectedGroups.js';
import { clockQuery, normaliseClock } from './clock.js';
import { sqlDialect } from './dialect/index.js';
import { STEP } from './names.js';
import { SCOPE_BUCKETS } from './scope.js';
import { detectionPlan, type DetectionPlan } from './plan.js';
import type { ExecuteStatement, InsertRowsStatement, QueryStatement, StreamStatement } from './statement.js';
import type { DetectionParams, DetectionRun, OpenKeys } from './types.js';

export interface DetectionContext {
  readonly database: string;
  readonly schema: string;
  readonly recorder: RunRecorder;
  readonly log: Logger;
}

/**
 * Values per batch of each stream, as multiples of BATCH_SIZE. Each batch is a round trip to the
 * warehouse process (or a driver call), so small batches of a few-KB rows cost more in trips than
 * in work; large batches of wide rows cost the job's memory.
 * - groups: ~BATCH_SIZE SSNs per batch of affected groups (~20 dates each, ~1 MB);
 * - scopeIds: ~10 × BATCH_SIZE ids per batch of the scope (~2 MB), whatever the number of ids a
 *   row packs;
 * - detectedRows: 0.4 × BATCH_SIZE rows (2,000 at the default). A detected row holds ~200 values
 *   (2–3 KB): a batch is held as JSON text, as parsed rows and as COPY text, with the next one
 *   fetched meanwhile. Measured at prod: the job's peak RSS 394 MB with 5,000 rows a batch (the
 *   400 MB of performance.md), 283 MB with 2,000, in the same time.
 */
const PER_BATCH = { groups: 1, scopeIds: 10, detectedRows: 0.4 } as const;

/** A statistic: NULL (a SUM over no rows) is 0; a missing column is an error already (onlyRow). */
function num(v: WarehouseValue): number {
  if (v === null) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number from the warehouse, got ${String(v)}`);
  return n;
}

/** Runs `fn`; a failure names the step (StepError), as RunRecorder.step does. */
async function inStep<T>(step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asStepError(step, err);
  }
}

export function createDetectionRun(session: WarehouseSession, params: DetectionParams, ctx: DetectionContext): DetectionRun {
  const d = sqlDialect(session.dialect);
  const { recorder, log } = ctx;
  const batchSize = Math.max(1, Math.floor(params.batchSize));
  /** Rows per batch of a stream whose batch holds `multiple` × BATCH_SIZE values, `perRow` to a row. */
  const rowsPerBatch = (multiple: number, perRow = 1) => Math.max(1, Math.floor((batchSize * multiple) / perRow));
  if (!Number.isFinite(params.extraDistancePer)) {
    throw new Error(`ExtraDistancePer must be a number (got ${String(params.extraDistancePer)})`);
  }
  let clock: string | undefined;
  let plan: DetectionPlan | undefined;
  let prepared = false;
  let changedVisits = 0;
  /** Set by sendOpenKeys: the open ids the warehouse holds (the scope streams reach those only). */
  let openIdCount: number | undefined;

  const exec = (s: ExecuteStatement) => session.execute(s.sql, s.params);
  const queryOne = async (s: QueryStatement) => onlyRow(s.step, await session.query(s.sql, s.params));
  const needPlan = (what: string): DetectionPlan => {
    if (!plan || !prepared) throw new Error(`detection: ${what} called before prepare()`);
    return plan;
  };

  /** Rows of `s`'s table from the job, batch by batch (each batch one insertRows). */
  async function upload(s: InsertRowsStatement, batches: AsyncIterable<string[][]>): Promise<void> {
    for await (const rows of batches) if (rows.length > 0) await session.insertRows(s.data.table, s.data.columns, rows);
  }

  async function* streamed(s: StreamStatement, onRows?: (n: number) => void, rowsPerBatch = batchSize): AsyncIterable<WarehouseRow[]> {
    let iterator: AsyncIterator<WarehouseRow[]>;
    try {
      iterator = session.stream(s.sql, s.params, rowsPerBatch)[Symbol.asyncIterator]();
    } catch (err) {
      throw asStepError(s.step, err);
    }
    for (;;) {
      let next: IteratorResult<WarehouseRow[]>;
      try {
        next = await iterator.next();
      } catch (err) {
        throw asStepError(s.step, err);
      }
      if (next.done) return;
      onRows?.(next.value.length);
      yield next.value;
    }
  }

  /** The narrow pass of Step 1 (performance.md): the groups steps 2 and 3 widen and pair. */
  async function narrowPass(pg: PairGroupsStatements): Promise<StepPart> {
    const t0 = performance.now();
    await exec(pg.create);
    const s = await queryOne(pg.stats);
    const groups = num(s('pair_groups'));
    const visits = num(s('pair_visits'));
    recorder.set('pairGroups', groups);
    recorder.set('pairGroupVisits', visits);
    const part = { name: 'narrow pass', seconds: (performance.now() - t0) / 1000, rows: groups, unit: `groups of two or more providers (${formatCount(visits)} visits)` };
    log.info(`${STEP.deltaKeys}, narrow pass: ${formatDuration(part.seconds * 1000)}, ${formatCount(groups)} ${part.unit}`, { step: STEP.deltaKeys, rows: groups });
    return part;
  }

  async function resolveClock(): Promise<string> {
    if (clock !== undefined) return clock;
    return inStep(STEP.clock, async () => {
      for (const s of d.sessionSetup) await session.execute(s);
      const { asOf } = params;
      let t: string;
      if (asOf?.kind === 'naive') {
        t = asOf.clock;
      } else {
        const v = (await queryOne(clockQuery(d, asOf)))('t');
        if (typeof v !== 'string') throw new Error(`the clock query returned ${String(v)}`);
        t = normaliseClock(v);
      }
      clock = t;
      log.info(`Clock T = ${t} (${asOf === undefined ? "the warehouse session's current time" : `AS_OF ${asOf.text}`})`, { clock: t });
      return t;
    });
  }

  return {
    resolveClock,

    async prepare(): Promise<void> {
      const T = await resolveClock();
      const pl = detectionPlan(d, { ...params, clock: T, database: ctx.database, schema: ctx.schema });
      plan = pl;
      const ex = pl.excluded;

      await recorder.step(
        STEP.excluded,
        () =>
          inStep(STEP.excluded, async () => {
            await exec(ex.createSsns);
            await exec(ex.createProviders);
            const ssns = ex.insertSsns.data;
            const providers = ex.insertProviders.data;
            // The values travel as data (bound), never as SQL text.
            await session.insertRows(ssns.table, ssns.columns, ssns.rows);
            await session.insertRows(providers.table, providers.columns, providers.rows);
            return { ssns: ssns.rowCount, providers: providers.rowCount };
          }),
        (r) => ({ rows: r.ssns, unit: `excluded SSNs, ${formatCount(r.providers)} excluded providers` }),
      );

      await recorder.step(
        STEP.deltaKeys,
        () =>
          inStep(STEP.deltaKeys, async () => {
            await exec(pl.deltaKeys.create);
            const s = await queryOne(pl.deltaKeys.stats);
            const r = { groups: num(s('groups')), ssns: num(s('ssns')), dates: num(s('dates')), changed: num(s('changed')) };
            recorder.set('changedVisits', r.changed);
            changedVisits = r.changed;
            recorder.set('affectedGroups', r.groups);
            recorder.set('affectedSsns', r.ssns);
            recorder.set('affectedDates', r.dates);
            return { ...r, parts: pl.deltaKeys.pairGroups ? [await narrowPass(pl.deltaKeys.pairGroups)] : [] };
          }),
        (r) => ({
          rows: r.groups,
          unit: `groups (${formatCount(r.ssns)} SSNs, ${formatCount(r.dates)} dates, ${formatCount(r.changed)} changed visits)`,
          parts: r.parts,
        }),
      );

      const part = async (create: ExecuteStatement, stats: QueryStatement, stat: 'candidatesPartA' | 'candidatesPartB') => {
        await exec(create);
        const s = await queryOne(stats);
        const r = { candidates: num(s('candidates')), dropped: num(s('dropped')), gpsBad: num(s('gps_bad')), rows: num(s('rows')) };
        recorder.set(stat, r.candidates);
        recorder.add('duplicateSourceRowsDropped', r.dropped);
        recorder.add('unusableGpsValues', r.gpsBad);
        return r;
      };
      const unit = (r: { rows: number; dropped: number }) =>
        `candidate visits (${formatCount(r.rows)} base visits incl. missed, ${formatCount(r.dropped)} duplicate source rows dropped)`;
      recorder.set('duplicateSourceRowsDropped', 0);
      recorder.set('unusableGpsValues', 0);
      await recorder.step(
        STEP.baseChanged,
        () =>
          inStep(STEP.baseChanged, async () => {
            for (const p of pl.baseChanged.prepare) await exec(p);
            return part(pl.baseChanged.create, pl.baseChanged.stats, 'candidatesPartA');
          }),
        (r) => ({ rows: r.candidates, unit: unit(r) }),
      );
      const b = pl.baseUnchanged;
      if (b) {
        await recorder.step(
          STEP.baseUnchanged,
          () => inStep(STEP.baseUnchanged, () => part(b.insert, b.stats, 'candidatesPartB')),
          (r) => ({ rows: r.candidates, unit: unit(r) }),
        );
      } else {
        recorder.set('candidatesPartB', 0);
        log.info(`${STEP.baseUnchanged}: skipped (ENABLE_ASYMMETRIC_JOIN=false: delta only, changed visits are the candidates)`);
      }
      prepared = true;
    },

    async sendOpenKeys(keys: OpenKeys): Promise<void> {
      const k = needPlan('sendOpenKeys()').openKeys;
      const r = await recorder.step(
        STEP.openKeys,
        () =>
          inStep(STEP.openKeys, async () => {
            await exec(k.createIds);
            await upload(k.insertIds, keys.ids());
            if (k.groups) {
              await exec(k.groups.create);
              await upload(k.groups.insert, keys.groups());
            }
            for (const u of k.unpack) await exec(u);
            const s = await queryOne(k.stats);
            return { ids: num(s('ids')), groups: num(s('groups')) };
          }),
        (r) => ({ rows: r.ids + r.groups, unit: `keys of open rows (${formatCount(r.ids)} visit ids, ${formatCount(r.groups)} groups)` }),
      );
      openIdCount = r.ids;
    },

    affectedGroups(): AsyncIterable<WarehouseRow[]> {
      const pl = needPlan('affectedGroups()');
      // The delta-only scope is ids alone: no groups were sent, none can reach an open row.
      if (openIdCount !== undefined && !pl.openKeys.groups) throw new Error('detection: affectedGroups() in delta-only mode: its stale scope has no groups');
      const s = openIdCount === undefined ? pl.scope : pl.openScope;
      return streamed(s.affectedGroups, undefined, rowsPerBatch(PER_BATCH.groups));
    },

    scopeVisitIds(): AsyncIterable<WarehouseRow[]> {
      const pl = needPlan('scopeVisitIds()');
      const s = openIdCount === undefined ? pl.scope : pl.openScope;
      // The ids a row packs: the changed visits (Step 1), or at most the open ids, spread over
      // the statement's buckets.
      const idsPerRow = Math.max(1, Math.min(changedVisits, openIdCount ?? Infinity) / SCOPE_BUCKETS);
      return streamed(s.scopeVisitIds, undefined, rowsPerBatch(PER_BATCH.scopeIds, idsPerRow));
    },

    async *detectedRows(): AsyncIterable<WarehouseRow[]> {
      const { pairs, visits, facts, details, rows: s } = needPlan('detectedRows()').conflicts;
      // The step's time runs from the query's start to its last row, so it includes the time
      // the consumer takes per batch (back-pressure: the next batch is fetched on demand).
      log.info(`${s.step}: started`);
      const t0 = performance.now();
      await inStep(s.step, async () => {
        await exec(pairs);
        await exec(visits);
        await exec(facts);
        await exec(details);
      });
      let rows = 0;
      recorder.set('detectedRows', 0);
      // Progress is shown by the consumer (sync's stage, through run/progress.ts), not here.
      yield* streamed(
        s,
        (n) => {
          rows += n;
          recorder.set('detectedRows', rows);
        },
        rowsPerBatch(PER_BATCH.detectedRows),
      );
      const seconds = (performance.now() - t0) / 1000;
      // RunRecorder.step times a promise; a stream is timed here and recorded the same way.
      recorder.steps.push({ name: s.step, seconds, rows, unit: 'detected rows' });
      log.info(`${s.step}: ${formatDuration(seconds * 1000)}, ${formatCount(rows)} detected rows`, {
        step: s.step,
        seconds: Number(seconds.toFixed(3)),
        rows,
      });
    },
  };
}

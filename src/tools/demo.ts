/**
 * `demo`: the embedded-default walk-through (operations.md, "Embedded default").
 *
 * 1. the `small` synthetic warehouse in data/warehouse.duckdb (generated once, fixed seed; the
 *    instant it was generated for is kept in data/warehouse.json and pins AS_OF);
 * 2. the target: the embedded PostgreSQL (or POSTGRES_HOST), schema conflict_demo, reset and
 *    bootstrapped with init_db;
 * 3. the job, run in-process through runActions exactly as the container runs it;
 * 4. some visits changed (mutateWarehouse) in a copy of the warehouse, six hours later;
 * 5. the job again with the later AS_OF, and once more to show that a repeat writes nothing.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runActions } from '../actions/run.js';
import { loadConfig, type Env } from '../config/config.js';
import { errorMessage } from '../errors.js';
import { createLogger, formatCount, formatDuration } from '../log.js';
import { duckdbText, postgresText } from '../sqlText.js';
import { openTarget, type Target } from '../target/postgres.js';
import { parseArgs } from './args.js';

const PROFILE = 'small';
const SEED = 42;
const MUTATION_SEED = 7;
const MUTATION_FRACTION = 0.03;
const LATER_HOURS = 6;
const SCHEMA = 'conflict_demo';
const PLACEHOLDER_SSNS = ['000-00-0000', '999-99-9999'];

interface WarehouseInfo {
  profile: string;
  seed: number;
  /** The instant the data was generated around: naive `YYYY-MM-DD HH:MM:SS`, UTC. */
  asOf: string;
  generatedAt?: string;
  visits?: number;
  caregivers?: number;
  providers?: number;
  changedVisits?: number;
}

interface RunReport {
  status: string;
  exitCode: number;
  error: string | null;
  durationSeconds: number;
  statistics: Record<string, number>;
  rejects: Array<{ reason: string; count: number }>;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

/**
 * While the job runs in-process, leave out the CloudWatch metrics line (one JSON object for
 * machines) so the walk-through stays readable; `--verbose` keeps it.
 */
function hideMetricsLines(): () => void {
  const original = process.stdout.write;
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string' && chunk.startsWith('{"_aws"')) {
      const cb = rest.find((r): r is () => void => typeof r === 'function');
      cb?.();
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}

function naive(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function plusHours(asOf: string, hours: number): string {
  return naive(new Date(Date.parse(`${asOf.replace(' ', 'T')}Z`) + hours * 3_600_000));
}

/** The warehouse of the demo: data/warehouse.duckdb, generated when absent. */
async function ensureWarehouse(path: string, infoPath: string, fresh: boolean): Promise<{ info: WarehouseInfo; generated: boolean }> {
  if (!fresh && existsSync(path)) {
    if (existsSync(infoPath)) {
      const info = JSON.parse(readFileSync(infoPath, 'utf8')) as WarehouseInfo;
      if (typeof info.asOf === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(info.asOf)) return { info, generated: false };
    }
    // A warehouse made by `generate` without its info file: its latest update is its instant.
    const asOf = await latestUpdate(path);
    if (asOf) return { info: { profile: 'unknown', seed: 0, asOf }, generated: false };
    out(`  ${path} has no visits with an update timestamp: generating a new one`);
  }
  const { generateWarehouse } = await import('../generate/generate.js');
  const asOf = naive(new Date());
  out(`  generating the ${PROFILE} warehouse (seed ${SEED}, as of ${asOf} UTC) …`);
  const s = await generateWarehouse({ profile: PROFILE, seed: SEED, out: path, asOf, onProgress: (m) => out(`    ${m}`) });
  const info: WarehouseInfo = {
    profile: PROFILE,
    seed: SEED,
    asOf: s.asOf,
    generatedAt: new Date().toISOString(),
    visits: s.visits,
    caregivers: s.caregivers,
    providers: s.providers,
    changedVisits: s.changedVisits,
  };
  writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  return { info, generated: true };
}

async function latestUpdate(path: string): Promise<string | undefined> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    await conn.run(`ATTACH ${duckdbText.str(path)} AS w (READ_ONLY)`);
    const r = await conn.runAndReadAll(`SELECT strftime(max("Visit Updated Timestamp"), '%Y-%m-%d %H:%M:%S') AS t FROM w.BI.FACTVISITCALLPERFORMANCE_CR`);
    const t = r.getRowObjectsJson()[0]?.t;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

function readReport(path: string): RunReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

function n(stats: Record<string, number>, key: string): number {
  return stats[key] ?? 0;
}

function printRun(report: RunReport | undefined, code: number): void {
  if (!report) {
    out(`  the run ended with exit code ${code} and wrote no report`);
    return;
  }
  const s = report.statistics;
  if (report.exitCode !== 0) {
    out(`  ${report.status} (exit code ${report.exitCode}): ${report.error ?? 'see the log above'}`);
    return;
  }
  const resolved = n(s, 'staleResolved') + n(s, 'exclusionResolved');
  out(`  detected   ${formatCount(n(s, 'detected')).padStart(7)} conflict rows (${formatCount(n(s, 'changedVisits'))} changed visits, ${formatCount(n(s, 'affectedGroups'))} affected caregiver-days)`);
  out(`  inserted   ${formatCount(n(s, 'inserted')).padStart(7)} new conflict rows (${formatCount(n(s, 'conflictIdsAllocated'))} new CONFLICTIDs, ${formatCount(n(s, 'parentsCreated'))} parent rows)`);
  out(
    `  updated    ${formatCount(n(s, 'updated')).padStart(7)} rows whose conflict changed (rule flag ${formatCount(n(s, 'updatedByFlag'))}, ` +
      `times/ids/places ${formatCount(n(s, 'updatedByColumn'))}, re-opened ${formatCount(n(s, 'reopened'))})`,
  );
  out(`  unchanged  ${formatCount(n(s, 'clean')).padStart(7)} rows still right as stored: not written at all`);
  out(
    `  resolved   ${formatCount(resolved).padStart(7)} rows (${formatCount(n(s, 'staleResolved'))} no longer conflicts, ` +
      `${formatCount(n(s, 'exclusionResolved'))} of excluded SSNs or agencies)`,
  );
  if (n(s, 'rejected') > 0) out(`  rejected   ${formatCount(n(s, 'rejected')).padStart(7)} rows that could not be stored (${report.rejects.map((r) => r.reason).join('; ')})`);
  out(`  took ${formatDuration(report.durationSeconds * 1000)}`);
}

async function rulesTable(target: Target): Promise<void> {
  const c = await target.connect();
  try {
    const flags = [
      ['SameSchTimeFlag', '1 same scheduled times'],
      ['SameVisitTimeFlag', '2 same visit times'],
      ['SchAndVisitTimeSameFlag', '3 schedule = other visit'],
      ['SchOverAnotherSchTimeFlag', '4 schedules overlap'],
      ['VisitTimeOverAnotherVisitTimeFlag', '5 visits overlap'],
      ['SchTimeOverVisitTimeFlag', '6 schedule over visit'],
      ['DistanceFlag', '7 impossible travel'],
    ] as const;
    const sql = `SELECT ${flags.map(([f], i) => `count(*) FILTER (WHERE ${postgresText.ident(f)} = 'Y') AS f${i}`).join(', ')},
                        count(*) FILTER (WHERE "StatusFlag" IN ('U', 'N')) AS open, count(*) AS total
                   FROM ${postgresText.ident(SCHEMA)}."conflictvisitmaps"`;
    const r = (await c.query<Record<string, string>>(sql)).rows[0];
    out(`  conflictvisitmaps now holds ${formatCount(Number(r.total))} rows, ${formatCount(Number(r.open))} open; rows per rule (a row can match several):`);
    out(`    ${flags.map(([, label], i) => `${label}: ${formatCount(Number(r[`f${i}`]))}`).join(' | ')}`);
  } catch (err) {
    out(`  (could not read the conflict table: ${errorMessage(err)})`);
  } finally {
    await c.end();
  }
}

/** `demo [--verbose] [--fresh]` */
export async function demoCommand(argv: string[], baseEnv: Env = process.env): Promise<number> {
  const a = parseArgs(argv, { verbose: 'boolean', fresh: 'boolean' });
  const verbose = a.verbose === true;
  const dataDir = resolve('data');
  const warehousePath = join(dataDir, 'warehouse.duckdb');
  const infoPath = join(dataDir, 'warehouse.json');
  const demoDir = join(dataDir, 'demo');
  const demoWarehouse = join(demoDir, 'warehouse.duckdb');
  mkdirSync(demoDir, { recursive: true });

  out('Conflict updater: demo');
  out('======================');
  out('Everything runs on this machine: a DuckDB file stands in for the Snowflake warehouse and an');
  out('embedded PostgreSQL (data/postgres) holds the conflict tables the application reads.');
  out(verbose ? '' : 'The job logs only warnings here; `npm run demo -- --verbose` shows every step of every run.\n');

  // 1. warehouse
  out(`[1/6] Warehouse: ${warehousePath}`);
  const { info, generated } = await ensureWarehouse(warehousePath, infoPath, a.fresh === true);
  if (!generated) out(`  reusing it (generated for ${info.asOf} UTC; \`npm run demo -- --fresh\` makes a new one)`);
  if (info.visits !== undefined) {
    out(`  ${formatCount(info.visits)} visits of ${formatCount(info.caregivers ?? 0)} caregivers at ${formatCount(info.providers ?? 0)} agencies;`);
    out(`  ${formatCount(info.changedVisits ?? 0)} of them changed in the 36 hours before ${info.asOf}`);
  }
  for (const p of [demoWarehouse, `${demoWarehouse}.wal`]) rmSync(p, { force: true });
  copyFileSync(warehousePath, demoWarehouse);
  if (existsSync(`${warehousePath}.wal`)) copyFileSync(`${warehousePath}.wal`, `${demoWarehouse}.wal`);

  // The job's environment: the embedded default, whatever Snowflake variables the shell has.
  const env: Record<string, string | undefined> = { ...baseEnv };
  for (const k of Object.keys(env)) if (k.startsWith('SNOWFLAKE_') || k === 'ACTION') delete env[k];
  Object.assign(env, {
    DUCKDB_PATH: demoWarehouse,
    POSTGRES_SCHEMA: SCHEMA,
    TIMEZONE: 'UTC',
    LOG_LEVEL: verbose ? 'INFO' : 'WARNING',
    EMAIL_SENDER: undefined,
    EMAIL_RECIPIENTS: undefined,
  });
  const config = loadConfig(env);
  const quiet = createLogger({ level: verbose ? 'INFO' : 'WARNING' });

  // 2. target
  out('');
  out(`[2/6] Target: ${config.postgres.kind === 'embedded' ? `embedded PostgreSQL on port ${config.postgres.port}` : `PostgreSQL at ${config.postgres.host}`}, schema ${SCHEMA}`);
  const target = await openTarget(config.postgres, quiet);
  const restoreStdout = verbose ? () => undefined : hideMetricsLines();
  try {
    const c = await target.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${postgresText.ident(SCHEMA)} CASCADE`);
    } finally {
      await c.end();
    }
    let code = await runActions('init_db', env);
    if (code !== 0) return code;
    const c2 = await target.connect();
    try {
      await c2.query(`INSERT INTO ${postgresText.ident(SCHEMA)}."excluded_ssn" ("SSN") SELECT unnest($1::text[])`, [PLACEHOLDER_SSNS]);
    } finally {
      await c2.end();
    }
    out(`  init_db created the tables, the settings row and the default MPH bands;`);
    out(`  excluded_ssn lists the placeholder SSNs ${PLACEHOLDER_SSNS.join(' and ')} (never conflicts)`);

    const run = async (step: string, title: string, asOf: string, report: string): Promise<number> => {
      out('');
      out(`${step} ${title}`);
      out(`  AS_OF=${asOf.replace(' ', 'T')}  (the run's clock: visits updated in the 36 hours before it are "changed")`);
      rmSync(report, { force: true });
      const exit = await runActions('task02_00_run_conflict_update', { ...env, AS_OF: asOf.replace(' ', 'T'), RUN_REPORT_PATH: report });
      printRun(readReport(report), exit);
      return exit;
    };

    // 3. first run
    code = await run('[3/6]', 'First run: an empty table, so every conflict found is new', info.asOf, join(demoDir, 'run-1.json'));
    if (code !== 0) return code;
    await rulesTable(target);

    // 4. change some visits
    const later = plusHours(info.asOf, LATER_HOURS);
    out('');
    out(`[4/6] ${LATER_HOURS} hours later: ${Math.round(MUTATION_FRACTION * 100)}% of the visits change (times shifted, moved a day, or copied onto`);
    out(`  another agency's visit of the same caregiver), in the copy ${demoWarehouse}`);
    const { mutateWarehouse } = await import('../generate/generate.js');
    const m = await mutateWarehouse({ path: demoWarehouse, seed: MUTATION_SEED, asOf: later, fraction: MUTATION_FRACTION });
    out(`  ${formatCount(m.changedVisits)} visits changed`);

    // 5. second run
    code = await run('[5/6]', 'Second run: the changed visits and their caregiver-days are re-evaluated', later, join(demoDir, 'run-2.json'));
    if (code !== 0) return code;
    await rulesTable(target);

    // 6. repeat
    code = await run('[6/6]', 'The same run again: nothing changed in between, so nothing is written', later, join(demoDir, 'run-3.json'));
    if (code !== 0) return code;

    out('');
    out('What you saw');
    out('  Each run finds the visits updated recently, re-checks every conflict of those caregivers on');
    out('  those days (seven rules: equal or overlapping times, impossible travel), and makes the table');
    out('  match: new conflicts inserted, changed ones updated, vanished ones resolved (StatusFlag R).');
    out('  Rows still right are not touched, and statuses a person set (whitelisted W, ignored I) are');
    out('  never changed. All writes of a run commit in one transaction.');
    out('');
    out('Try next');
    out(`  the reports of the three runs:        ${join('data', 'demo', 'run-1.json')} … run-3.json`);
    out(`  look at the demo tables:              POSTGRES_SCHEMA=${SCHEMA} npx conflict-updater test_connections`);
    out(`  run the job yourself (schema conflict_dev, full log):`);
    out(`                                        npx conflict-updater init_db`);
    out(`                                        AS_OF=${info.asOf.replace(' ', 'T')} TIMEZONE=UTC npx conflict-updater`);
    out('  the SQL a run sends to the warehouse: npx conflict-updater sql --dialect duckdb');
    out('  a bigger warehouse and the timings:   npm run bench -- --profile medium');
    const where = process.getuid?.() === 0 ? `the folder ${join('data', 'postgres', 'LOCATION.txt')} names (it runs as user postgres)` : join('data', 'postgres');
    out(`  the embedded PostgreSQL keeps its data in ${where}; \`rm -rf data\` starts over`);
    return 0;
  } finally {
    restoreStdout();
    await target.close();
  }
}

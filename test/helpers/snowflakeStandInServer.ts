// The Snowflake stand-in in a process of its own, for `bench --warehouse snowflake-stand-in`: the
// job process then holds only the job (its memory is measured alone), as in production, where
// Snowflake runs elsewhere. Started with the path of a JSON spec (StandInServerSpec); it reads the
// job's reference data from the job's target (the twins need the job's DetectionParams), prints
// one line `{"url": …}` when it listens, and on SIGTERM (or stdin closing) prints
// `{"stats": …}` and exits.
//
// For experiments, two variables change the chunks it makes: STAND_IN_FIRST_CHUNK_BYTES (the
// compressed size of the first chunk; the size a production-sized result reaches after a few
// chunks, on a smaller warehouse) and STAND_IN_CHUNK_SIZE_MB (CLIENT_RESULT_CHUNK_SIZE whatever the
// session sets: 160 is the account default).
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/config.js';
import { paramsFromTarget } from '../../src/bench/targetReference.js';
import { createLogger } from '../../src/log.js';
import { detectionTwins } from './detectionTwins.js';
import { SnowflakeStandIn } from './snowflakeStandIn.js';
import { warehouseExecutor } from './snowflakeStandInWarehouse.js';

export interface StandInServerSpec {
  /** The job's environment (its configuration: target, warehouse names, AS_OF, windows). */
  readonly env: Record<string, string>;
  /** The DuckDB warehouse file the twins run on. */
  readonly duckdbPath: string;
  readonly account: string;
  readonly user: string;
  readonly publicKeyPem: string;
}

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as StandInServerSpec;
const config = loadConfig(spec.env);
const log = createLogger({ level: 'WARNING', out: process.stderr });
const params = await paramsFromTarget(config, log);
const { database, schema } = config.warehouse;
const number = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const executor = await warehouseExecutor({
  path: spec.duckdbPath,
  database,
  twins: detectionTwins(params, { database, schema }),
  firstChunkBytes: number('STAND_IN_FIRST_CHUNK_BYTES'),
  chunkSizeMb: number('STAND_IN_CHUNK_SIZE_MB'),
});
const si = await SnowflakeStandIn.start({ account: spec.account, user: spec.user, publicKey: spec.publicKeyPem, warehouse: executor });
process.stdout.write(`${JSON.stringify({ url: si.url })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await si.close();
  await executor.close();
  const stats = { ...executor.stats, statementsReceived: si.statements.length, chunkRequests: si.chunkRequests.length, logins: si.logins.length };
  process.stdout.write(`${JSON.stringify({ stats })}\n`, () => process.exit(0));
}
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();

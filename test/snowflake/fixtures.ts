// Shared pieces of the Snowflake tests: one RSA key pair, the configuration the job would build
// from SNOWFLAKE_*, a log that keeps its lines, and a session opened on the stand-in.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SnowflakeConfig } from '../../src/config/config.js';
import { normalisePrivateKey, type NormalisedPrivateKey } from '../../src/config/privateKey.js';
import { openSnowflakeSession, type SnowflakeTuning } from '../../src/warehouse/snowflake.js';
import type { OpenWarehouseOptions, WarehouseSession } from '../../src/warehouse/warehouse.js';
import { SnowflakeStandIn, type StandInOptions } from '../helpers/snowflakeStandIn.js';
import { captureLog } from '../helpers/log.js';

export { captureLog, type CapturedLog } from '../helpers/log.js';

export const ACCOUNT = 'TESTACCT';
export const USER = 'CONFLICT_JOB';

export const keys: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const pkcs8Pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/** The Snowflake login of a job run against the stand-in at `url` (undefined: none yet, set later). */
export function loginEnv(url?: string): Record<string, string> {
  return {
    SNOWFLAKE_ACCOUNT: 'testacct',
    SNOWFLAKE_USER: 'conflict_job',
    SNOWFLAKE_WAREHOUSE: 'CONFLICT_WH',
    SNOWFLAKE_PRIVATE_KEY: pkcs8Pem,
    ...(url === undefined ? {} : { SNOWFLAKE_ACCESS_URL: url }),
  };
}

export function config(privateKey: NormalisedPrivateKey = normalisePrivateKey(pkcs8Pem), over: Partial<SnowflakeConfig> = {}): SnowflakeConfig {
  return {
    kind: 'snowflake',
    account: ACCOUNT.toLowerCase(),
    user: USER.toLowerCase(),
    warehouse: 'CONFLICT_WH',
    privateKey,
    hasPassphrase: false,
    database: 'ANALYTICS',
    schema: 'BI',
    role: 'CONFLICT_ROLE',
    ...over,
  };
}

export function standIn(over: Partial<StandInOptions> = {}): Promise<SnowflakeStandIn> {
  return SnowflakeStandIn.start({ account: ACCOUNT, user: USER, publicKey: keys.publicKey, ...over });
}

/** A session on the stand-in, the way openWarehouse opens one (no login retries: tests are quick). */
export function open(
  si: SnowflakeStandIn,
  opts: Partial<OpenWarehouseOptions> = {},
  cfg: SnowflakeConfig = config(),
  tuning: SnowflakeTuning = {},
): Promise<WarehouseSession> {
  return openSnowflakeSession(cfg, { log: opts.log ?? captureLog().log, ...opts }, { accessUrl: si.url, loginRetries: 0, ...tuning });
}

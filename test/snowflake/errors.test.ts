// Snowflake failures read as one clear line (the issue; operations.md "Exit codes": a connection
// or SQL failure is exit 1): wrong key, unknown account, locked/disabled/expired user, network
// unreachable, SQL errors with the statement's first line. No stack, no key material.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { normalisePrivateKey } from '../../src/config/privateKey.js';
import { ConfigError, StepError } from '../../src/errors.js';
import { openSnowflakeSession, SnowflakeError } from '../../src/warehouse/snowflake.js';
import { firstLine } from '../../src/warehouse/snowflakeErrors.js';
import { refusedPort as closedPort } from '../helpers/net.js';
import { assertNoSecret, keyBody } from '../helpers/secrets.js';
import { col, type SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { captureLog, config, open, pkcs8Pem, standIn } from './fixtures.js';

const KEY_BODY = keyBody(pkcs8Pem);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    assert.doesNotMatch(err.message, /\bat .*\.js:\d+/, 'no stack in the message');
    assertNoSecret(err.message, [KEY_BODY], 'key material');
    return err;
  }
  assert.fail('expected a failure');
}

const HOST_HINT = '(the account identifier, such as myorg-myaccount or xy12345.us-east-1)';

describe('login failures', () => {
  let si: SnowflakeStandIn;
  before(async () => (si = await standIn()));
  after(() => si.close());

  test('wrong key: the JWT is rejected (390144)', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const err = await failure(open(si, {}, config(normalisePrivateKey(other))));
    assert.ok(err instanceof SnowflakeError);
    assert.equal(err.kind, 'auth');
    assert.equal(err.code, '390144');
    assert.equal(
      err.message,
      `Snowflake login failed for user conflict_job: JWT token is invalid (check SNOWFLAKE_PRIVATE_KEY matches the user's RSA_PUBLIC_KEY, ` +
        `and that SNOWFLAKE_ACCOUNT "testacct" and SNOWFLAKE_USER name that user)`,
    );
    assert.equal(si.logins.at(-1)?.outcome, 'bad-jwt');
    assert.equal(si.logins.at(-1)?.jwt?.signatureValid, false);
  });

  test('a user name the key does not belong to is the same refusal', async () => {
    const err = await failure(open(si, {}, config(undefined, { user: 'someone_else' })));
    assert.match(err.message, /^Snowflake login failed for user someone_else: JWT token is invalid/);
  });

  test('unknown account: HTTP 404 at login', async () => {
    const err = await failure(open(si, {}, config(undefined, { account: 'otheracct' })));
    assert.ok(err instanceof SnowflakeError);
    assert.equal(err.kind, 'account');
    assert.equal(err.message, `Snowflake account "otheracct" was not found at ${new URL(si.url).host} (HTTP 404 to the login request): check SNOWFLAKE_ACCOUNT ${HOST_HINT}`);
  });

  test('unknown account: HTTP 403 at login', async () => {
    const s403 = await standIn({ unknownAccountStatus: 403 });
    try {
      const err = await failure(open(s403, {}, config(undefined, { account: 'otheracct' })));
      assert.match(err.message, /^Snowflake account "otheracct" was not found at .* \(HTTP 403 to the login request\): check SNOWFLAKE_ACCOUNT/);
    } finally {
      await s403.close();
    }
  });

  for (const [state, expected] of [
    ['locked', /^Snowflake login failed: user conflict_job is locked \(390101: User temporarily locked\.\); an administrator can unlock it \(ALTER USER conflict_job SET MINS_TO_UNLOCK = 0\)$/],
    ['disabled', /^Snowflake login failed: user conflict_job is disabled \(390102: User is disabled\. .*\); an administrator must enable it \(ALTER USER conflict_job SET DISABLED = FALSE\)$/],
    ['expired', /^Snowflake login failed: user conflict_job has expired \(390106: User has expired\. .*\); an administrator must extend it/],
  ] as const) {
    test(`${state} user`, async () => {
      const s = await standIn({ userState: state });
      try {
        const err = await failure(open(s));
        assert.ok(err instanceof SnowflakeError);
        assert.equal(err.kind, 'user');
        assert.match(err.message, expected);
      } finally {
        await s.close();
      }
    });
  }
});

describe('network failures', () => {
  let silent: Server;
  let silentPort = 0;
  const sockets = new Set<Socket>();
  before(async () => {
    // Accepts connections and never answers: a black-holed route.
    silent = createServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });


  test('unknown account: the host name does not resolve', async () => {
    const err = await failure(
      openSnowflakeSession(config(), { log: captureLog().log }, { accessUrl: 'http://testacct.invalid', loginRetries: 0 }),
    );
    assert.ok(err instanceof SnowflakeError);
    assert.equal(err.kind, 'account');
    assert.match(
      err.message,
      /^Cannot resolve the Snowflake host testacct\.invalid \(DNS lookup failed, (ENOTFOUND|EAI_AGAIN)\): check SNOWFLAKE_ACCOUNT \("testacct" may not be an account identifier\) and the network's DNS$/,
    );
  });

  test('connection refused', async () => {
    const port = await closedPort();
    const err = await failure(
      openSnowflakeSession(config(), { log: captureLog().log }, { accessUrl: `http://127.0.0.1:${port}`, loginRetries: 0 }),
    );
    assert.ok(err instanceof SnowflakeError);
    assert.equal(err.kind, 'network');
    assert.equal(
      err.message,
      `Cannot reach Snowflake at 127.0.0.1:${port} to log in: connection refused (ECONNREFUSED); check that this network allows HTTPS to Snowflake`,
    );
  });

  test('connection refused, retried: still one line, and it gives up', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const err = await failure(
      openSnowflakeSession(config(), { log: captureLog().log }, { accessUrl: `http://127.0.0.1:${port}`, loginRetries: 1 }),
    );
    assert.match(err.message, /connection refused \(ECONNREFUSED\)/);
    assert.ok(Date.now() - t0 < 15_000);
  });

  test('no answer: timed out', async () => {
    const err = await failure(
      openSnowflakeSession(
        config(),
        { log: captureLog().log },
        { accessUrl: `http://127.0.0.1:${silentPort}`, loginRetries: 0, requestTimeoutMs: 300 },
      ),
    );
    assert.ok(err instanceof SnowflakeError);
    assert.equal(err.kind, 'network');
    assert.equal(
      err.message,
      `Cannot reach Snowflake at 127.0.0.1:${silentPort} to log in: timed out (${err.code}); ` +
        'check the network route to Snowflake (subnets, NAT gateway, security groups, proxy)',
    );
    assert.match(String(err.code), /^(ECONNABORTED|ETIMEDOUT)$/);
  });

  test('an account name the driver cannot use is a configuration error', async () => {
    const err = await failure(open({ url: 'http://127.0.0.1:1' } as SnowflakeStandIn, {}, config(undefined, { account: 'bad account!' })));
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /^Snowflake rejected SNOWFLAKE_ACCOUNT "bad account!": /);
  });
});

describe('statement failures', () => {
  let si: SnowflakeStandIn;
  before(async () => {
    si = await standIn();
    si.on(/FROM ANALYTICS\.BI\.NOPE/, {
      error: { code: '002003', sqlState: '42S02', message: "SQL compilation error:\nObject 'ANALYTICS.BI.NOPE' does not exist or not authorized." },
    });
  });
  after(() => si.close());

  test('a compilation error names the statement by its first line; the caller adds the step', async () => {
    const wh = await open(si);
    const sql = '\n  -- Step 1: affected groups\n  SELECT "Visit Id"\n  FROM ANALYTICS.BI.NOPE\n  WHERE 1 = 1';
    const err = await failure(wh.query(sql));
    assert.ok(err instanceof SnowflakeError);
    assert.equal(err.kind, 'sql');
    assert.equal(err.code, '002003');
    assert.equal(err.sqlState, '42S02');
    const queryId = si.statements.at(-1)!.queryId;
    assert.equal(err.queryId, queryId);
    assert.equal(
      err.message,
      `Snowflake SQL compilation error: Object 'ANALYTICS.BI.NOPE' does not exist or not authorized. [002003, SQLSTATE 42S02, query ${queryId}] in: SELECT "Visit Id"`,
    );
    const step = new StepError('Step 1 (delta_keys)', err);
    assert.match(step.message, /^Step 1 \(delta_keys\): Snowflake SQL compilation error: Object 'ANALYTICS\.BI\.NOPE'/);

    // the same from execute() and stream(), and the session goes on
    assert.equal((await failure(wh.execute('CREATE TABLE x AS SELECT * FROM ANALYTICS.BI.NOPE'))).message.endsWith('in: CREATE TABLE x AS SELECT * FROM ANALYTICS.BI.NOPE'), true);
    const streamed = failure((async () => {
      for await (const b of wh.stream('SELECT * FROM ANALYTICS.BI.NOPE', [], 10)) void b;
    })());
    assert.match((await streamed).message, /^Snowflake SQL compilation error: .* in: SELECT \* FROM ANALYTICS\.BI\.NOPE$/);
    assert.equal(await wh.version(), '9.99.0');
    await wh.close();
  });

  test('a result chunk the storage refuses fails the stream with the status and the statement', async () => {
    si.on(/FROM chunky/, { columns: [col('i', 'text')], rowCount: 3_000, chunkRows: 1_000, row: (i) => [String(i)] });
    si.chunkStatus = (r) => (r.index === 1 ? 404 : undefined);
    const wh = await open(si);
    try {
      let rows = 0;
      const err = await failure((async () => {
        for await (const b of wh.stream('SELECT i FROM chunky', [], 100)) rows += b.length;
      })());
      assert.ok(err instanceof SnowflakeError);
      assert.equal(err.message, `Snowflake at ${new URL(si.url).host} answered HTTP 404 to a result chunk download in: SELECT i FROM chunky`);
      assert.equal(rows, 1_000, 'the rows before the failed chunk arrived');
    } finally {
      si.chunkStatus = undefined;
      await wh.close();
    }
  });

  test('a TIMEZONE Snowflake does not accept fails the open with the zone named', async () => {
    const err = await failure(open(si, { timezone: 'Mars/Olympus_Mons' }));
    assert.match(err.message, /^TIMEZONE "Mars\/Olympus_Mons": Snowflake SQL compilation error: invalid value \[Mars\/Olympus_Mons\] for parameter 'TIMEZONE'/);
    assert.equal(si.logouts.at(-1)?.sessionToken, si.sessionTokens.at(-1), 'the half-opened session was logged out');
  });

  test('a closed session says so', async () => {
    const wh = await open(si);
    await wh.close();
    const err = await failure(wh.execute('SELECT 1'));
    assert.equal(err.message, 'Snowflake session is closed');
  });

  test('firstLine skips blank and comment lines and cuts long lines', () => {
    assert.equal(firstLine('\n\n  -- note\n  SELECT 1\nFROM t'), 'SELECT 1');
    assert.equal(firstLine(`SELECT ${'x'.repeat(300)}`).length, 160);
  });
});

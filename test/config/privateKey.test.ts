// Spec: operations.md, Configuration: private key — "Accept: a PEM with real newlines; a PEM whose
// newlines are the two characters `\n`; the base64 body without the BEGIN/END lines; the path of a
// readable file holding any of these; PKCS#8, encrypted PKCS#8 (with the passphrase) and PKCS#1 RSA.
// Anything else: a configuration error that says which of these it is not. Never log a secret."

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { normalisePrivateKey, PrivateKeyError, type NormalisedPrivateKey } from '../../src/config/privateKey.js';
import { assertNoSecret, keyBody } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';

// ---- fixtures: one RSA key pair per file, in every form --------------------------------------

const PASSPHRASE = 'correct-horse-battery-staple-42';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// A second key: a result signing with it must not verify against `publicKey`.
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

const pkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const pkcs1Pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const encPkcs8Pem = privateKey.export({
  type: 'pkcs8',
  format: 'pem',
  cipher: 'aes-256-cbc',
  passphrase: PASSPHRASE,
}) as string;
const encPkcs1Pem = privateKey.export({
  type: 'pkcs1',
  format: 'pem',
  cipher: 'aes-256-cbc',
  passphrase: PASSPHRASE,
}) as string;
const pkcs8Der = privateKey.export({ type: 'pkcs8', format: 'der' });
const spkiPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const rsaPublicPem = publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;

/** The base64 body of a PEM (lines kept), without BEGIN/END lines or headers. */
function bodyOf(pem: string): string {
  return pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .join('\n');
}
const escapeNewlines = (s: string): string => s.replace(/\n/g, '\\n');

const pkcs8Body = bodyOf(pkcs8Pem);
const pkcs1Body = bodyOf(pkcs1Pem);
const encPkcs8Body = bodyOf(encPkcs8Pem);

/** Every secret a message must not leak: the bodies of every form, and the passphrase. */
const SECRETS = [pkcs8Pem, pkcs1Pem, encPkcs8Pem, encPkcs1Pem].map(keyBody);

const dir = tempDir('privateKey-test-');
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// ---- assertions --------------------------------------------------------------------------------

/** The result is an unencrypted PKCS#8 PEM of the generated key: it signs what the public key verifies. */
function assertSameKey(result: NormalisedPrivateKey): void {
  const { pem } = result;
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PRIVATE KEY-----\n$/);
  assert.ok(!pem.includes('ENCRYPTED') && !pem.includes('\r') && !pem.includes('\\'));
  const key: KeyObject = createPrivateKey(pem); // no passphrase needed
  assert.equal(key.asymmetricKeyType, 'rsa');
  const data = Buffer.from('snowflake key-pair login');
  const signature = sign('sha256', data, pem);
  assert.ok(verify('sha256', data, publicKey, signature), 'signature verifies with the generated public key');
  assert.ok(!verify('sha256', data, other.publicKey, signature), 'and not with another key');
}

function assertAccepted(
  raw: string,
  expected: Pick<NormalisedPrivateKey, 'source' | 'format'>,
  passphrase?: string,
): NormalisedPrivateKey {
  const result = normalisePrivateKey(raw, passphrase);
  assert.equal(result.source, expected.source);
  assert.equal(result.format, expected.format);
  assert.equal(result.length, raw.length);
  assertSameKey(result);
  return result;
}

/** Rejected with a PrivateKeyError naming the variable and the reason, and no secret in the message. */
function assertRejected(raw: string, fragment: RegExp, passphrase?: string, extraSecrets: string[] = []): string {
  let caught: unknown;
  try {
    normalisePrivateKey(raw, passphrase);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PrivateKeyError, `expected a PrivateKeyError, got ${String(caught)}`);
  const message = caught.message;
  assert.ok(message.startsWith('SNOWFLAKE_PRIVATE_KEY '), message);
  assert.match(message, fragment);
  assertNoSecret(message, [...SECRETS, ...extraSecrets], 'a private key');
  assert.ok(!message.includes(PASSPHRASE), 'the message holds the passphrase');
  if (passphrase) assert.ok(!message.includes(passphrase), 'the message holds the passphrase');
  return message;
}

// ---- accepted forms -----------------------------------------------------------------------------

describe('normalisePrivateKey: accepted forms', () => {
  test('PKCS#8 PEM with real newlines', () => {
    assertAccepted(pkcs8Pem, { source: 'pem', format: 'pkcs8' });
  });

  test('PKCS#8 PEM with CRLF newlines and surrounding whitespace', () => {
    assertAccepted(`\n  ${pkcs8Pem.replace(/\n/g, '\r\n')}  \n`, { source: 'pem', format: 'pkcs8' });
  });

  test('PKCS#8 PEM whose newlines are the two characters \\n', () => {
    const raw = escapeNewlines(pkcs8Pem);
    assert.ok(!raw.includes('\n'));
    assertAccepted(raw, { source: 'pem-escaped-newlines', format: 'pkcs8' });
  });

  test('PEM with literal \\r\\n, wrapped in JSON quotes and whitespace', () => {
    const raw = ` "${pkcs8Pem.replace(/\n/g, '\\r\\n')}" \n`;
    assertAccepted(raw, { source: 'pem-escaped-newlines', format: 'pkcs8' });
  });

  test('PEM escaped twice (\\\\n) and single-quoted', () => {
    assertAccepted(`'${pkcs8Pem.replace(/\n/g, '\\\\n')}'`, { source: 'pem-escaped-newlines', format: 'pkcs8' });
  });

  test('PEM flattened to one line with spaces for newlines', () => {
    assertAccepted(pkcs8Pem.replace(/\n/g, ' '), { source: 'pem', format: 'pkcs8' });
  });

  test('PEM with text before it and a certificate after it (openssl bag attributes)', () => {
    const fakeCert = `-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n`;
    assertAccepted(`Bag Attributes\n    localKeyID: 01\n${pkcs8Pem}${fakeCert}`, { source: 'pem', format: 'pkcs8' });
  });

  test('PKCS#1 PEM ("BEGIN RSA PRIVATE KEY")', () => {
    assert.ok(pkcs1Pem.startsWith('-----BEGIN RSA PRIVATE KEY-----'));
    assertAccepted(pkcs1Pem, { source: 'pem', format: 'pkcs1' });
  });

  test('PKCS#1 PEM with literal \\n', () => {
    assertAccepted(escapeNewlines(pkcs1Pem), { source: 'pem-escaped-newlines', format: 'pkcs1' });
  });

  test('encrypted PKCS#8 PEM (aes-256-cbc) with the passphrase', () => {
    assert.ok(encPkcs8Pem.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----'));
    assertAccepted(encPkcs8Pem, { source: 'pem', format: 'encrypted-pkcs8' }, PASSPHRASE);
  });

  test('encrypted PKCS#8 PEM with literal \\n and the passphrase', () => {
    assertAccepted(escapeNewlines(encPkcs8Pem), { source: 'pem-escaped-newlines', format: 'encrypted-pkcs8' }, PASSPHRASE);
  });

  test('traditionally encrypted PKCS#1 PEM (Proc-Type: 4,ENCRYPTED) with the passphrase', () => {
    assert.match(encPkcs1Pem, /Proc-Type: 4,ENCRYPTED/);
    assertAccepted(encPkcs1Pem, { source: 'pem', format: 'pkcs1' }, PASSPHRASE);
    assertAccepted(escapeNewlines(encPkcs1Pem), { source: 'pem-escaped-newlines', format: 'pkcs1' }, PASSPHRASE);
  });

  test('an unencrypted key with a passphrase set anyway: the passphrase is not needed', () => {
    assertAccepted(pkcs8Pem, { source: 'pem', format: 'pkcs8' }, PASSPHRASE);
  });

  test('base64 body only, PKCS#8, with its newlines', () => {
    assertAccepted(pkcs8Body, { source: 'base64-body', format: 'pkcs8' });
  });

  test('base64 body only, PKCS#8, one line', () => {
    assertAccepted(pkcs8Body.replace(/\n/g, ''), { source: 'base64-body', format: 'pkcs8' });
  });

  test('base64 body only, PKCS#8, with literal \\n and quotes', () => {
    assertAccepted(`"${escapeNewlines(pkcs8Body)}\\n"`, { source: 'base64-body', format: 'pkcs8' });
  });

  test('base64 body only, PKCS#1', () => {
    assertAccepted(pkcs1Body, { source: 'base64-body', format: 'pkcs1' });
  });

  test('base64 body only, encrypted PKCS#8, with the passphrase', () => {
    assertAccepted(encPkcs8Body, { source: 'base64-body', format: 'encrypted-pkcs8' }, PASSPHRASE);
  });

  test('a file holding a PKCS#8 PEM', () => {
    assertAccepted(file('pkcs8.pem', pkcs8Pem), { source: 'file', format: 'pkcs8' });
  });

  test('a file holding a PEM with literal \\n', () => {
    assertAccepted(file('escaped.pem', escapeNewlines(pkcs8Pem)), { source: 'file', format: 'pkcs8' });
  });

  test('a file holding a PKCS#1 PEM', () => {
    assertAccepted(file('pkcs1.key', pkcs1Pem), { source: 'file', format: 'pkcs1' });
  });

  test('a file holding an encrypted PKCS#8 PEM, with the passphrase', () => {
    assertAccepted(file('encrypted.p8', encPkcs8Pem), { source: 'file', format: 'encrypted-pkcs8' }, PASSPHRASE);
  });

  test('a file holding a base64 body only', () => {
    assertAccepted(file('body.txt', `${pkcs1Body}\n`), { source: 'file', format: 'pkcs1' });
  });

  test('a file holding a binary DER PKCS#8 key, path with surrounding quotes', () => {
    const path = file('key.der', pkcs8Der);
    assertAccepted(`"${path}"`, { source: 'file', format: 'pkcs8' });
  });

  test('the length reported is that of the raw input', () => {
    const raw = `  ${escapeNewlines(pkcs8Pem)}  `;
    assert.equal(normalisePrivateKey(raw).length, raw.length);
  });
});

// ---- rejected values ----------------------------------------------------------------------------

describe('normalisePrivateKey: rejections say which form it is not, and leak nothing', () => {
  test('empty value, whitespace, empty quotes', () => {
    for (const raw of ['', '   \n ', '""', "' '"]) assertRejected(raw, /SNOWFLAKE_PRIVATE_KEY is empty/);
  });

  test('a public key (SPKI PEM) instead of a private key', () => {
    assertRejected(spkiPem, /is a public key \(PEM "PUBLIC KEY"\), not a private key/, undefined, [bodyOf(spkiPem)]);
  });

  test('an RSA public key (PKCS#1 PEM) instead of a private key', () => {
    assertRejected(rsaPublicPem, /is a public key \(PEM "RSA PUBLIC KEY"\)/, undefined, [bodyOf(rsaPublicPem)]);
  });

  test('a public key as a base64 body', () => {
    const body = bodyOf(spkiPem);
    assertRejected(body, /is a public key \(base64 key body\), not a private key/, undefined, [body]);
  });

  test('a certificate instead of a private key', () => {
    assertRejected(
      `-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n`,
      /is a certificate \(PEM "CERTIFICATE"\), not a private key/,
    );
  });

  test('a certificate-shaped structure as a base64 body', () => {
    // SEQUENCE { SEQUENCE { INTEGER 1 }, SEQUENCE { OID 1.2.840.113549.1.1.11 }, BIT STRING } repeated to length
    const tbs = Buffer.concat([Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])]);
    const alg = Buffer.from([0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]);
    const sig = Buffer.concat([Buffer.from([0x03, 0x41, 0x00]), Buffer.alloc(64, 7)]);
    const inner = Buffer.concat([tbs, alg, sig]);
    const der = Buffer.concat([Buffer.from([0x30, inner.length]), inner]);
    assertRejected(der.toString('base64'), /is a certificate or certificate request \(base64 key body\)/);
  });

  test('encrypted PKCS#8 PEM without SNOWFLAKE_PRIVATE_KEY_PASSPHRASE (unset or empty)', () => {
    for (const pass of [undefined, '']) {
      assertRejected(
        encPkcs8Pem,
        /is an encrypted key \(PEM "ENCRYPTED PRIVATE KEY"\) but SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is not set/,
        pass,
      );
    }
  });

  test('encrypted base64 body without the passphrase', () => {
    assertRejected(encPkcs8Body, /is an encrypted key \(base64 key body, encrypted PKCS#8\) but SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is not set/);
  });

  test('traditionally encrypted PKCS#1 PEM without the passphrase', () => {
    assertRejected(encPkcs1Pem, /is an encrypted key \(PEM "RSA PRIVATE KEY"\) but SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is not set/);
  });

  test('wrong passphrase: encrypted PEM, encrypted base64 body, encrypted PKCS#1', () => {
    const wrong = 'not-the-passphrase-9';
    for (const raw of [encPkcs8Pem, escapeNewlines(encPkcs8Pem), encPkcs8Body, encPkcs1Pem]) {
      assertRejected(raw, /could not be decrypted with SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: wrong passphrase/, wrong, [wrong]);
    }
  });

  test('an EC key: PKCS#8 PEM, SEC1 PEM, SEC1 base64 body', () => {
    const ecPkcs8 = ec.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ecSec1 = ec.export({ type: 'sec1', format: 'pem' }) as string;
    const secrets = [bodyOf(ecPkcs8), bodyOf(ecSec1)].map((b) => b.replace(/\n/g, ''));
    assertRejected(ecPkcs8, /is an EC private key, not RSA/, undefined, secrets);
    assertRejected(ecSec1, /is an EC private key \(PEM "EC PRIVATE KEY"\), not RSA/, undefined, secrets);
    assertRejected(bodyOf(ecSec1), /is an EC private key \(base64 key body, SEC1\), not RSA/, undefined, secrets);
  });

  test('an Ed25519 key as a PKCS#8 base64 body', () => {
    const edPem = ed.export({ type: 'pkcs8', format: 'pem' }) as string;
    // Its body is 64 characters: long enough to be taken for a key body.
    assertRejected(bodyOf(edPem), /is an Ed25519 private key, not RSA/, undefined, [bodyOf(edPem)]);
  });

  test('truncated PEM: lines missing before the END line', () => {
    const lines = pkcs8Pem.trimEnd().split('\n');
    const truncated = [...lines.slice(0, 10), lines.at(-1)!].join('\n');
    assertRejected(truncated, /has a truncated PEM "PRIVATE KEY" body: its DER structure declares \d+ bytes but only \d+ are present/);
  });

  test('truncated PEM: no END line', () => {
    assertRejected(pkcs8Pem.slice(0, 700), /is a truncated PEM "PRIVATE KEY": its BEGIN line has no END line/);
  });

  test('truncated PEM: body cut mid-line', () => {
    const lines = pkcs8Pem.trimEnd().split('\n');
    const truncated = [...lines.slice(0, 10), lines[10]!.slice(0, 21), lines.at(-1)!].join('\n');
    assertRejected(truncated, /has a truncated or corrupt PEM "PRIVATE KEY" body/);
  });

  test('corrupt PEM body: a character that is not base64', () => {
    const corrupt = pkcs8Pem.replace(/\n(.{10})/, '\n$1*');
    assertRejected(corrupt, /has a corrupt PEM "PRIVATE KEY" body: a character outside the base64 alphabet/);
  });

  test('corrupt PEM body: bytes changed inside the key', () => {
    const body = pkcs8Der.toString('base64');
    const damaged = Buffer.from(pkcs8Der);
    damaged.fill(0xff, 4, 40); // the version and algorithm, not the outer length
    const pem = `-----BEGIN PRIVATE KEY-----\n${damaged.toString('base64')}\n-----END PRIVATE KEY-----\n`;
    assertRejected(pem, /is a corrupt PEM "PRIVATE KEY": its body cannot be read as a key/, undefined, [body]);
  });

  test('an empty PEM body', () => {
    assertRejected('-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n', /is a truncated PEM "PRIVATE KEY": its body is empty/);
  });

  test('truncated base64 body', () => {
    assertRejected(pkcs8Body.slice(0, 800), /has a truncated base64 key body: its DER structure declares/);
  });

  test('two private keys in one value', () => {
    const otherPem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assertRejected(pkcs8Pem + otherPem, /holds 2 PEM private keys; expected exactly one/, undefined, [bodyOf(otherPem)]);
  });

  test('an OpenSSH private key', () => {
    const fake = `-----BEGIN OPENSSH PRIVATE KEY-----\n${pkcs8Body}\n-----END OPENSSH PRIVATE KEY-----\n`;
    assertRejected(fake, /is an OpenSSH-format private key.*convert it to PKCS#8/);
  });

  test('an OpenSSH public key line', () => {
    assertRejected('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host', /is an OpenSSH public key, not a private key/);
  });

  test('the whole Secrets Manager JSON instead of its private_key field', () => {
    const json = JSON.stringify({ account: 'a', user: 'u', warehouse: 'w', private_key: pkcs8Body });
    assertRejected(json, /is a JSON object \(the whole secret\?\), not a key/);
  });

  test('a path that does not exist: named as such, the path not echoed', () => {
    for (const path of [join(dir, 'missing', 'rsa_key.p8'), 'rsa_key.p8', 'C:\\secrets\\snowflake']) {
      const message = assertRejected(path, /looks like a file path \(\d+ characters\), but no such file exists/);
      assert.ok(!message.includes(path));
    }
  });

  test('a path naming a directory', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    assertRejected(sub, /looks like a file path .*but it names a directory, not a file/);
  });

  test('a path naming an unreadable file', { skip: process.getuid?.() === 0 ? 'running as root: every file is readable' : false }, () => {
    const path = file('unreadable.pem', pkcs8Pem);
    chmodSync(path, 0o000);
    try {
      assertRejected(path, /looks like a file path .*but the file it names is not readable \(EACCES\)/);
    } finally {
      chmodSync(path, 0o600);
    }
  });

  test('a file whose content is not a key', () => {
    const path = file('notes.txt', 'hello, this is not a key\n');
    assertRejected(path, /names a file whose content is not a private key in any accepted form/, undefined, ['hello, this is']);
  });

  test('a file whose content is a public key', () => {
    const path = file('public.pem', spkiPem);
    assertRejected(path, /names a file whose content is a public key \(PEM "PUBLIC KEY"\)/, undefined, [bodyOf(spkiPem)]);
  });

  test('a file holding an encrypted key, without the passphrase', () => {
    const path = file('encrypted2.p8', encPkcs8Pem);
    assertRejected(path, /names a file whose content is an encrypted key .*SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is not set/);
  });

  test('not PEM, not base64, not a file', () => {
    const raw = 'this is certainly not a key!';
    const message = assertRejected(
      raw,
      /is not a private key in any accepted form: not PEM .*not a base64 key body \(it has a character outside the base64 alphabet at position 28\).*not the path of a readable file \(no such file exists\)/,
    );
    assert.ok(!message.includes('certainly'));
  });

  test('a base64 body with one corrupt character: not taken for a path, and not echoed', () => {
    const body = pkcs8Body.replace(/\n/g, '');
    const corrupt = `${body.slice(0, 300)}*${body.slice(301)}`;
    assertRejected(corrupt, /not a base64 key body \(it has a character outside the base64 alphabet at position 301\)/);
  });

  test('base64 that decodes to something other than a key', () => {
    const raw = Buffer.alloc(120, 'x').toString('base64');
    assertRejected(raw, /not a base64 key body \(it does not decode to a DER key structure\)/);
  });
});

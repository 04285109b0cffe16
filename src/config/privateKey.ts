// The Snowflake private key, normalised (operations.md, "Configuration": the paragraph on the
// private key). The key arrives from Secrets Manager as one string; accepted forms:
//   - a PEM with real newlines;
//   - a PEM whose newlines are the two characters `\n` (also `\r\n`, surrounding quotes/whitespace);
//   - the base64 body without the BEGIN/END lines;
//   - the path of a readable file holding any of these;
// each as PKCS#8, encrypted PKCS#8 (with SNOWFLAKE_PRIVATE_KEY_PASSPHRASE) or PKCS#1 RSA.
// Anything else is a configuration error that says which of these it is not.
// Never a secret in a message: errors name the variable and the reason, never any part of the
// value (not even a path, which could be a mangled key body) nor the passphrase.

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export type PrivateKeySource = 'pem' | 'pem-escaped-newlines' | 'base64-body' | 'file';

export interface NormalisedPrivateKey {
  /** Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----" … with real \n newlines), what snowflake-sdk's `privateKey` option takes. */
  pem: string;
  /** How the input was given, for the log (never the key itself). */
  source: PrivateKeySource;
  /** 'pkcs8' | 'encrypted-pkcs8' | 'pkcs1'. */
  format: 'pkcs8' | 'encrypted-pkcs8' | 'pkcs1';
  /** Length in characters of the raw input, for logging presence and length. */
  length: number;
}

/** A SNOWFLAKE_PRIVATE_KEY that is none of the accepted forms. The message never holds key material. */
export class PrivateKeyError extends Error {
  override readonly name = 'PrivateKeyError';
}

type KeyFormat = NormalisedPrivateKey['format'];

const VAR = 'SNOWFLAKE_PRIVATE_KEY';
const PASSPHRASE_VAR = 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE';
/** Larger than any RSA key file in any of the accepted forms. */
const MAX_FILE_BYTES = 1024 * 1024;
/** Shorter than any RSA private key body (an RSA-512 PKCS#1 key is ~420 base64 characters). */
const MIN_BASE64_CHARS = 64;
/** A value longer than this is not treated as a path when explaining why it was rejected. */
const MAX_PATH_CHARS = 1024;

const NON_RSA_HINT = 'Snowflake key-pair authentication needs an RSA key';

/**
 * Normalises SNOWFLAKE_PRIVATE_KEY to an unencrypted PKCS#8 PEM.
 * @param raw the variable's value, as it arrived
 * @param passphrase SNOWFLAKE_PRIVATE_KEY_PASSPHRASE; empty counts as not set
 * @throws PrivateKeyError when the value is none of the accepted forms
 */
export function normalisePrivateKey(raw: string, passphrase?: string): NormalisedPrivateKey {
  if (typeof raw !== 'string') throw new PrivateKeyError(`${VAR} is not set`);
  const pass = passphrase === undefined || passphrase === '' ? undefined : passphrase;
  const { key, format, source } = normaliseText(raw, pass, VAR, true);
  return { pem: toPkcs8Pem(key), source, format, length: raw.length };
}

interface Parsed {
  key: KeyObject;
  format: KeyFormat;
  source: PrivateKeySource;
}

/**
 * @param subject how messages name the value: the variable, or the variable's file's content
 * @param allowFile whether the value may be a path (not for a file's content: no chains)
 */
function normaliseText(raw: string, pass: string | undefined, subject: string, allowFile: boolean): Parsed {
  const value = unwrap(raw);
  if (value === '') throw new PrivateKeyError(`${subject} is empty`);

  if (value.includes('-----BEGIN')) return parsePem(value, pass, subject);

  if (value.startsWith('{') && value.endsWith('}')) {
    throw new PrivateKeyError(
      `${subject} is a JSON object (the whole secret?), not a key: set it to the secret's private_key field only`,
    );
  }
  if (/^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-\S+)\s/.test(value)) {
    throw new PrivateKeyError(`${subject} is an OpenSSH public key, not a private key`);
  }

  const b64 = analyseBase64(value);
  if (b64.ok) return { ...parseDer(b64.der, pass, subject, 'base64 key body'), source: 'base64-body' };

  if (allowFile) {
    const file = tryFile(value, pass, subject);
    if (file.parsed) return file.parsed;
    if (looksLikePath(value) && file.reason !== undefined) {
      throw new PrivateKeyError(
        `${subject} looks like a file path (${value.length} characters), but ${file.reason}; ` +
          `it is not PEM (no "-----BEGIN" line) and not a base64 key body either`,
      );
    }
    throw new PrivateKeyError(
      `${subject} is not a private key in any accepted form: not PEM (no "-----BEGIN ... PRIVATE KEY-----" line), ` +
        `not a base64 key body (${b64.reason}), and not the path of a readable file (${file.reason ?? 'no such file exists'})`,
    );
  }
  throw new PrivateKeyError(
    `${subject} is not a private key in any accepted form: not PEM (no "-----BEGIN ... PRIVATE KEY-----" line) ` +
      `and not a base64 key body (${b64.reason})`,
  );
}

/** Strips what Secrets Manager, JSON or a shell may leave around the value: whitespace and quotes. */
function unwrap(raw: string): string {
  let v = raw.trim();
  for (;;) {
    const q = v[0];
    if (v.length >= 2 && (q === '"' || q === "'") && v.endsWith(q)) v = v.slice(1, -1).trim();
    else return v;
  }
}

/** Literal `\n`, `\r\n`, `\r` (any number of backslashes: escaped once or twice) and JSON's `\/`. */
const ESCAPED_NEWLINE = /(?:\\+r)?\\+n|\\+r/g;
const ESCAPED_SLASH = /\\+\//g;

// ---------------------------------------------------------------------------------------------
// PEM

interface PemBlock {
  label: string;
  /** No END line after the BEGIN line. */
  unterminated: boolean;
  /** The END line's label differs from the BEGIN line's. */
  mismatchedEnd: boolean;
  headers: string[];
  /** base64 body, whitespace removed. */
  body: string;
}

function parsePem(value: string, pass: string | undefined, subject: string): Parsed {
  const escaped = /\\+[rn]/.test(value);
  const text = value.replace(ESCAPED_NEWLINE, '\n').replace(ESCAPED_SLASH, '/').replace(/\r\n?/g, '\n');
  const source: PrivateKeySource = escaped ? 'pem-escaped-newlines' : 'pem';

  const blocks = pemBlocks(text);
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keys.length > 1) {
    throw new PrivateKeyError(`${subject} holds ${keys.length} PEM private keys; expected exactly one`);
  }
  const block = keys[0];
  if (block === undefined) throw new PrivateKeyError(`${subject} ${notAPrivateKeyLabel(blocks[0])}`);

  let format: KeyFormat;
  let encrypted: boolean;
  switch (block.label) {
    case 'PRIVATE KEY':
      format = 'pkcs8';
      encrypted = false;
      break;
    case 'ENCRYPTED PRIVATE KEY':
      format = 'encrypted-pkcs8';
      encrypted = true;
      break;
    case 'RSA PRIVATE KEY':
      format = 'pkcs1';
      // Traditional OpenSSL encryption of a PKCS#1 key: "Proc-Type: 4,ENCRYPTED" + "DEK-Info".
      encrypted = block.headers.some((h) => /^Proc-Type:\s*4,\s*ENCRYPTED$/i.test(h));
      break;
    case 'EC PRIVATE KEY':
      throw new PrivateKeyError(`${subject} is an EC private key (PEM "EC PRIVATE KEY"), not RSA: ${NON_RSA_HINT}`);
    case 'DSA PRIVATE KEY':
      throw new PrivateKeyError(`${subject} is a DSA private key (PEM "DSA PRIVATE KEY"), not RSA: ${NON_RSA_HINT}`);
    case 'OPENSSH PRIVATE KEY':
      throw new PrivateKeyError(
        `${subject} is an OpenSSH-format private key, which cannot be read here: ` +
          'convert it to PKCS#8 (ssh-keygen -p -m PKCS8 -f <file>)',
      );
    default:
      throw new PrivateKeyError(
        `${subject} is a PEM block labelled ${describeLabel(block.label)}, ` +
          'not "PRIVATE KEY", "ENCRYPTED PRIVATE KEY" or "RSA PRIVATE KEY"',
      );
  }
  const what = `PEM "${block.label}"`;

  if (block.unterminated) {
    throw new PrivateKeyError(`${subject} is a truncated ${what}: its BEGIN line has no END line`);
  }
  if (block.mismatchedEnd) {
    throw new PrivateKeyError(`${subject} is a corrupt ${what}: its END line does not match its BEGIN line`);
  }
  const der = decodeBase64Body(block.body, subject, what);
  if (!block.headers.length) checkDerOutline(der, subject, `${what} body`);

  if (encrypted && pass === undefined) {
    throw new PrivateKeyError(`${subject} is an encrypted key (${what}) but ${PASSPHRASE_VAR} is not set`);
  }
  const pem =
    `-----BEGIN ${block.label}-----\n` +
    (block.headers.length ? `${block.headers.join('\n')}\n\n` : '') +
    `${wrap64(block.body)}\n-----END ${block.label}-----\n`;
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase: pass } : { key: pem, format: 'pem' });
  } catch (err) {
    if (encrypted) throw wrongPassphrase(subject, what, err);
    throw new PrivateKeyError(`${subject} is a corrupt ${what}: its body cannot be read as a key${codeOf(err)}`);
  }
  checkRsa(key, subject);
  return { key, format, source };
}

function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const begin = /-----BEGIN ([^\n-]*)-----/g;
  for (let m = begin.exec(text); m !== null; m = begin.exec(text)) {
    const label = m[1]!.trim();
    const from = m.index + m[0].length;
    const endAt = text.indexOf('-----END', from);
    const nextBegin = text.indexOf('-----BEGIN', from);
    if (endAt < 0 || (nextBegin >= 0 && nextBegin < endAt)) {
      blocks.push({ label, unterminated: true, mismatchedEnd: false, headers: [], body: '' });
      continue;
    }
    const end = /^-----END ([^\n-]*)-----/.exec(text.slice(endAt));
    const { headers, body } = splitHeaders(text.slice(from, endAt));
    blocks.push({ label, unterminated: end === null, mismatchedEnd: end !== null && end[1]!.trim() !== label, headers, body });
    begin.lastIndex = endAt + (end?.[0].length ?? '-----END'.length);
  }
  return blocks;
}

/** RFC 1421 headers ("Proc-Type: …", "DEK-Info: …") come first, then the base64 body. */
function splitHeaders(content: string): { headers: string[]; body: string } {
  const lines = content.split('\n').map((l) => l.trim());
  const headers: string[] = [];
  let i = 0;
  while (i < lines.length && lines[i] === '') i++;
  while (i < lines.length && /^[A-Za-z][A-Za-z0-9-]*:\s/.test(lines[i]!)) headers.push(lines[i++]!);
  return { headers, body: lines.slice(i).join('').replace(/\s+/g, '') };
}

function notAPrivateKeyLabel(block: PemBlock | undefined): string {
  const label = block?.label ?? '';
  if (/PUBLIC KEY$/.test(label)) return `is a public key (PEM ${describeLabel(label)}), not a private key`;
  if (/CERTIFICATE REQUEST$/.test(label)) {
    return `is a certificate signing request (PEM ${describeLabel(label)}), not a private key`;
  }
  if (/CERTIFICATE$/.test(label)) return `is a certificate (PEM ${describeLabel(label)}), not a private key`;
  return `is a PEM block labelled ${describeLabel(label)}, not a private key`;
}

/** A PEM label, quoted, when it is a plain one (it cannot then be key material). */
function describeLabel(label: string): string {
  return /^[A-Z0-9 ]{1,40}$/.test(label) ? `"${label}"` : '(unrecognised label)';
}

function wrap64(body: string): string {
  return body.match(/.{1,64}/g)!.join('\n');
}

// ---------------------------------------------------------------------------------------------
// base64 and DER

type Base64Analysis = { ok: true; der: Buffer } | { ok: false; reason: string };

/** Is the value a base64 key body (possibly with whitespace or literal `\n` inside)? */
function analyseBase64(value: string): Base64Analysis {
  // Position of a bad character in the value as given (escapes blanked out, not removed).
  const blanked = value.replace(ESCAPED_NEWLINE, (m) => ' '.repeat(m.length)).replace(ESCAPED_SLASH, (m) => `${' '.repeat(m.length - 1)}/`);
  const bad = blanked.search(/[^A-Za-z0-9+/\-_=\s]/);
  if (bad >= 0) return { ok: false, reason: `it has a character outside the base64 alphabet at position ${bad + 1}` };
  const compact = blanked.replace(/\s+/g, '');
  if (!/^[^=]*={0,2}$/.test(compact)) return { ok: false, reason: 'it has "=" padding inside the text' };
  if (compact.length < MIN_BASE64_CHARS) {
    return { ok: false, reason: `${compact.length} characters is too short for a private key` };
  }
  if (compact.length % 4 === 1 || (compact.includes('=') && compact.length % 4 !== 0)) {
    return { ok: false, reason: `${compact.length} characters is not a valid base64 length` };
  }
  const der = Buffer.from(compact, 'base64');
  if (der[0] !== 0x30) return { ok: false, reason: 'it does not decode to a DER key structure' };
  return { ok: true, der };
}

/** Decodes a PEM body, or says precisely why it cannot be decoded. */
function decodeBase64Body(body: string, subject: string, what: string): Buffer {
  if (body === '') throw new PrivateKeyError(`${subject} is a truncated ${what}: its body is empty`);
  const bad = body.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) {
    throw new PrivateKeyError(
      `${subject} has a corrupt ${what} body: a character outside the base64 alphabet at position ${bad + 1}`,
    );
  }
  if (!/^[^=]*={0,2}$/.test(body) || body.length % 4 === 1 || (body.includes('=') && body.length % 4 !== 0)) {
    throw new PrivateKeyError(
      `${subject} has a truncated or corrupt ${what} body: ${body.length} base64 characters is not a valid base64 length`,
    );
  }
  return Buffer.from(body, 'base64');
}

interface Tlv {
  tag: number;
  /** Offset of the contents. */
  start: number;
  /** Offset just past the contents. */
  end: number;
}

/** One DER tag-length-value at `at`, or null when the header itself is cut off or not DER. */
function readTlv(buf: Buffer, at: number): Tlv | null {
  if (at + 2 > buf.length) return null;
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) return null; // indefinite or absurd length
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  return { tag, start, end: start + len };
}

type DerKind =
  | 'pkcs8'
  | 'encrypted-pkcs8'
  | 'pkcs1'
  | 'pkcs1-public'
  | 'spki'
  | 'certificate'
  | 'sec1'
  | 'dsa'
  | 'unknown';

/** The outline of a DER structure: which kind of key (or not-a-key) its top-level SEQUENCE is. */
function classifyDer(der: Buffer): DerKind {
  const top = readTlv(der, 0);
  if (top === null || top.tag !== 0x30 || top.end !== der.length) return 'unknown';
  const tags: string[] = [];
  for (let at = top.start; at < top.end; ) {
    const child = readTlv(der, at);
    if (child === null || child.end > top.end) return 'unknown';
    tags.push(child.tag.toString(16).padStart(2, '0'));
    at = child.end;
  }
  const shape = tags.join(' ');
  // PrivateKeyInfo / OneAsymmetricKey: version, algorithm, privateKey [, attributes] [, publicKey]
  if (/^02 30 04( a0)?( 81| a1)?$/.test(shape)) return 'pkcs8';
  // EncryptedPrivateKeyInfo: encryptionAlgorithm, encryptedData
  if (shape === '30 04') return 'encrypted-pkcs8';
  // SubjectPublicKeyInfo: algorithm, subjectPublicKey
  if (shape === '30 03') return 'spki';
  // Certificate / CertificationRequest: tbs, signatureAlgorithm, signature
  if (shape === '30 30 03') return 'certificate';
  // ECPrivateKey (SEC1): version, privateKey [, parameters] [, publicKey]
  if (/^02 04( a0)?( a1)?$/.test(shape)) return 'sec1';
  if (tags.every((t) => t === '02')) {
    if (tags.length >= 9) return 'pkcs1'; // RSAPrivateKey: version, n, e, d, p, q, dp, dq, qinv
    if (tags.length === 6) return 'dsa'; // OpenSSL's DSA private key: version, p, q, g, y, x
    if (tags.length === 2) return 'pkcs1-public'; // RSAPublicKey: n, e
  }
  return 'unknown';
}

/** Rejects a DER structure that is cut short or has bytes after its end: a truncated or corrupt body. */
function checkDerOutline(der: Buffer, subject: string, what: string): void {
  const top = readTlv(der, 0);
  if (top === null || top.tag !== 0x30) {
    throw new PrivateKeyError(`${subject} has a corrupt ${what}: it does not decode to a DER key structure`);
  }
  if (top.end > der.length) {
    throw new PrivateKeyError(
      `${subject} has a truncated ${what}: its DER structure declares ${top.end} bytes but only ${der.length} are present`,
    );
  }
  if (top.end < der.length) {
    throw new PrivateKeyError(
      `${subject} has a corrupt ${what}: ${der.length - top.end} bytes follow the end of its DER structure`,
    );
  }
}

/** A DER key (from a base64 body or a binary file): PKCS#8, then encrypted PKCS#8, then PKCS#1. */
function parseDer(der: Buffer, pass: string | undefined, subject: string, what: string): Omit<Parsed, 'source'> {
  checkDerOutline(der, subject, what);
  const kind = classifyDer(der);

  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    checkRsa(key, subject);
    return { key, format: 'pkcs8' };
  } catch (err) {
    if (err instanceof PrivateKeyError) throw err;
    if (kind === 'encrypted-pkcs8' || (err as { code?: unknown }).code === 'ERR_MISSING_PASSPHRASE') {
      const label = `${what}, encrypted PKCS#8`;
      if (pass === undefined) {
        throw new PrivateKeyError(`${subject} is an encrypted key (${label}) but ${PASSPHRASE_VAR} is not set`);
      }
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase: pass });
      } catch (err2) {
        throw wrongPassphrase(subject, label, err2);
      }
      checkRsa(key, subject);
      return { key, format: 'encrypted-pkcs8' };
    }
  }

  // Node 24's OpenSSL reads any private key DER as "pkcs1" (an EC key too): name the outline first.
  if (kind === 'sec1' || kind === 'dsa') throw new PrivateKeyError(`${subject} ${describeUnreadableDer(kind, what)}`);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
    checkRsa(key, subject);
    return { key, format: 'pkcs1' };
  } catch (err) {
    if (err instanceof PrivateKeyError) throw err;
    throw new PrivateKeyError(`${subject} ${describeUnreadableDer(kind, what)}${codeOf(err)}`);
  }
}

function describeUnreadableDer(kind: DerKind, what: string): string {
  switch (kind) {
    case 'spki':
    case 'pkcs1-public':
      return `is a public key (${what}), not a private key`;
    case 'certificate':
      return `is a certificate or certificate request (${what}), not a private key`;
    case 'sec1':
      return `is an EC private key (${what}, SEC1), not RSA: ${NON_RSA_HINT}`;
    case 'dsa':
      return `is a DSA private key (${what}), not RSA: ${NON_RSA_HINT}`;
    case 'pkcs8':
    case 'pkcs1':
      return `is a corrupt ${what}: it has the outline of a ${kind === 'pkcs8' ? 'PKCS#8' : 'PKCS#1'} key but cannot be read`;
    default:
      return `is a ${what} that is not a PKCS#8, encrypted PKCS#8 or PKCS#1 RSA private key`;
  }
}

// ---------------------------------------------------------------------------------------------
// file

interface FileAttempt {
  parsed?: Parsed;
  /** Why the value is not a readable file, when it is not. */
  reason?: string;
}

function looksLikePath(value: string): boolean {
  return value.length <= MAX_PATH_CHARS && !value.includes('\n') && (/[\\/]/.test(value) || /\.(pem|p8|key)$/i.test(value));
}

function tryFile(value: string, pass: string | undefined, subject: string): FileAttempt {
  if (value.includes('\n') || value.includes('\0') || value.length > MAX_PATH_CHARS) return { reason: 'no such file exists' };
  let size: number;
  try {
    const st = statSync(value);
    if (st.isDirectory()) return { reason: 'it names a directory, not a file' };
    if (!st.isFile()) return { reason: 'it names something that is not a regular file' };
    size = st.size;
  } catch (err) {
    return { reason: fsReason(err) };
  }
  if (size > MAX_FILE_BYTES) return { reason: `the file it names is too large to be a key (${size} bytes)` };
  let content: Buffer;
  try {
    content = readFileSync(value);
  } catch (err) {
    return { reason: `the file it names is not readable${codeOf(err)}` };
  }
  const fileSubject = `${subject} names a file whose content`;
  // A binary DER key file: not text.
  if (content[0] === 0x30 && content.some((b) => b < 0x09 || (b > 0x0d && b < 0x20) || b > 0x7e)) {
    return { parsed: { ...parseDer(content, pass, fileSubject, 'DER key'), source: 'file' } };
  }
  const text = content.toString('utf8').replace(/^\uFEFF/, '');
  return { parsed: { ...normaliseText(text, pass, fileSubject, false), source: 'file' } };
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file exists';
  if (code === 'EACCES' || code === 'EPERM') return `the file it names is not readable${codeOf(err)}`;
  return `the file it names cannot be opened${codeOf(err)}`;
}

// ---------------------------------------------------------------------------------------------
// common

function checkRsa(key: KeyObject, subject: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    const type = KEY_TYPE_NAMES[key.asymmetricKeyType ?? ''] ?? 'a non-RSA';
    throw new PrivateKeyError(`${subject} is ${type} private key, not RSA: ${NON_RSA_HINT}`);
  }
}

/** node:crypto's asymmetricKeyType, as a message says it (with its article). */
const KEY_TYPE_NAMES: Record<string, string> = {
  ec: 'an EC',
  dsa: 'a DSA',
  dh: 'a DH',
  'rsa-pss': 'an RSA-PSS',
  ed25519: 'an Ed25519',
  ed448: 'an Ed448',
  x25519: 'an X25519',
  x448: 'an X448',
};

function wrongPassphrase(subject: string, what: string, err: unknown): PrivateKeyError {
  return new PrivateKeyError(
    `${subject} could not be decrypted with ${PASSPHRASE_VAR}: wrong passphrase ` +
      `(or a corrupt key or an unsupported cipher) for the encrypted key (${what})${codeOf(err)}`,
  );
}

/** " (ERR_…)" from a Node/OpenSSL error: a fixed identifier, never part of the input. */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]{1,60}$/.test(code) ? ` (${code})` : '';
}

function toPkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

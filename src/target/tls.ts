// TLS to PostgreSQL (operations.md, "Security"): libpq's sslmode values mapped onto Node's TLS
// options, the CA bundle to verify against, and failures that say what to set.
import { existsSync, readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { CaBundle, PostgresConfig, SslMode } from '../config/config.js';

/**
 * The Amazon RDS global CA bundle the image carries (Dockerfile), beside the program: RDS servers'
 * certificates chain to it, and Node's public CA store does not hold it. Absent in a checkout.
 */
export const RDS_CA_BUNDLE_PATH = fileURLToPath(new URL('../../certs/rds-global-bundle.pem', import.meta.url));

/** The CAs a verifying mode trusts, and how to name them in a message. */
export interface TrustedCas {
  readonly ca: string[];
  readonly source: string;
}

/** POSTGRES_SSLROOTCERT when given; otherwise the public CAs plus the image's RDS bundle, when present. */
export function trustedCas(rootCert: CaBundle | undefined, rdsBundlePath = RDS_CA_BUNDLE_PATH): TrustedCas {
  if (rootCert) return { ca: [rootCert.pem], source: rootCert.source };
  if (existsSync(rdsBundlePath)) {
    return { ca: [...rootCertificates, readFileSync(rdsBundlePath, 'utf8')], source: `the public CAs and the Amazon RDS CA bundle (${rdsBundlePath})` };
  }
  return { ca: [...rootCertificates], source: "Node.js's public CAs (no Amazon RDS CA bundle beside the program)" };
}

/** The `ssl` option of pg for a mode; false: a plain connection. */
export function tlsOptions(mode: SslMode, cas: () => TrustedCas): false | ConnectionOptions {
  switch (mode) {
    case 'disable':
    case 'allow':
      return false;
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // The chain is checked, the host name is not (libpq's verify-ca).
      return { rejectUnauthorized: true, ca: cas().ca, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ca: cas().ca };
  }
}

/** Modes that do not verify the server, chosen explicitly for an external server: what the log warns. */
export function weakModeWarning(cfg: PostgresConfig): string | undefined {
  if (cfg.kind !== 'external') return undefined;
  switch (cfg.sslmode) {
    case 'verify-full':
    case 'verify-ca':
      return undefined;
    case 'prefer':
    case 'require':
      return (
        `POSTGRES_SSLMODE=${cfg.sslmode}: the connection to ${cfg.host} is encrypted, but the server's certificate is not verified ` +
        '(anyone between the task and the database can read the data); use verify-full with POSTGRES_SSLROOTCERT'
      );
    default:
      return (
        `POSTGRES_SSLMODE=${cfg.sslmode}: the connection to ${cfg.host} may be unencrypted (SSNs and names travel in plain text); ` +
        'use verify-full with POSTGRES_SSLROOTCERT'
      );
  }
}

/** Node's codes of a certificate that does not chain to a trusted CA. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A TLS failure of a connection to `cfg`, rewritten to name the host, the mode and the fix;
 * undefined when `err` is not one.
 */
export function describeTlsFailure(err: unknown, cfg: PostgresConfig, cas: () => TrustedCas): Error | undefined {
  const e = err as { code?: string; message?: string; reason?: string } | undefined;
  const code = e?.code ?? '';
  const message = String(e?.message ?? err);
  const at = `PostgreSQL TLS to ${cfg.host}:${cfg.port} (POSTGRES_SSLMODE=${cfg.sslmode})`;
  let text: string | undefined;
  if (/does not support SSL/i.test(message)) {
    text =
      `${at}: the server does not offer TLS. Turn on ssl on the server (RDS always offers it), ` +
      'or, only for a server on a private network, set POSTGRES_SSLMODE=disable explicitly';
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    text =
      `${at}: the server's certificate is not for the host name ${cfg.host} (${e?.reason ?? message}). ` +
      'Set POSTGRES_HOST to a name the certificate holds (for RDS, the instance endpoint, not an IP address or a CNAME), ' +
      'or POSTGRES_SSLMODE=verify-ca to check the CA only';
  } else if (UNTRUSTED.has(code)) {
    text =
      `${at}: the server's certificate does not verify against ${cas().source} (${message}). ` +
      'Set POSTGRES_SSLROOTCERT to the CA bundle that signed it (a file path, or the PEM itself)';
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    text = `${at}: the server's certificate is out of its validity period (${message}). Renew the server's certificate`;
  }
  return text === undefined ? undefined : new Error(text, { cause: err });
}

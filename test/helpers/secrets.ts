// "Never log a secret" (operations.md): the one check of the tests that a log, message, report or
// email holds no secret, not even a piece of one (a key printed in parts, a token cut short).
import assert from 'node:assert/strict';

/** Length of the pieces looked for: long enough not to occur by chance, short enough to catch a cut. */
const PIECE = 12;

/** The base64 body of a PEM: its lines without the BEGIN/END lines and headers, joined. */
export function keyBody(pem: string): string {
  return pem
    .split(/\r?\n/)
    .filter((l) => l !== '' && !l.startsWith('-----') && !l.includes(':'))
    .join('');
}

/**
 * Asserts that `text` holds no piece of `PIECE` characters of any of `secrets` (a shorter secret:
 * not the whole of it). `what` names the secrets in the failure, which never shows them.
 */
export function assertNoSecret(text: string, secrets: readonly string[], what = 'a secret'): void {
  for (const secret of secrets) {
    if (secret === '') continue;
    for (let i = 0; i === 0 || i + PIECE <= secret.length; i++) {
      const piece = secret.slice(i, i + PIECE);
      assert.ok(!text.includes(piece), `${what} leaked (characters ${i + 1}–${i + piece.length} of it) into:\n${text}`);
    }
  }
}

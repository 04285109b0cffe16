// Every line the deploy tool prints goes through a Redactor: known secret values (the ECR
// password and token, secret-looking values found in deploy/.env) and anything shaped like a
// private key or an AWS access key become ****.

const MASK = '****';

const SHAPES: RegExp[] = [
  // PEM private keys, also with literal \n instead of newlines
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  // AWS access key ids
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
];

export class Redactor {
  private readonly values = new Set<string>();

  /** Never print this value (nor its JSON-escaped or base64 form). */
  add(value: string | undefined): void {
    if (!value || value.length < 4) return;
    this.values.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.values.add(escaped);
    // A multi-line value (a PEM) may surface one line at a time.
    for (const line of value.split(/\r?\n|\\n/)) if (line.trim().length >= 8) this.values.add(line.trim());
  }

  apply(text: string): string {
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(MASK);
    for (const re of SHAPES) out = out.replace(re, MASK);
    return out;
  }
}

/** `****` plus the length, for summaries that show a value is there without showing it. */
export function masked(value: string | undefined): string {
  return value ? `${MASK} (${value.length} chars)` : '(not set)';
}

// A Bloom filter of the open rows' keys (openRows.ts): the stale scope's streams keep only the
// groups and visit ids that can touch an open row. No false negatives, so nothing in scope is
// lost; a false positive only costs a row of COPY. It lives in one typed array outside the V8
// heap, sized for the keys it holds, never for the millions of keys it is asked about.

/** Bits per key: with 6 hashes, about 1 false positive in 1,700. */
const BITS_PER_KEY = 16;
const HASHES = 6;
/** 32 MB at most: beyond that the false positives rise, the results do not change. */
const MAX_BITS = 2 ** 28;
const MIN_BITS = 2 ** 10;

/** Separates a group's SSN from its date in the hashed key. */
const GROUP_SEPARATOR = 0;

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class KeyFilter {
  private words: Uint32Array;
  private readonly mask: number;
  private h1 = 0;
  private h2 = 0;

  /** A filter for about `keys` keys. */
  constructor(keys: number) {
    let bits = MIN_BITS;
    while (bits < keys * BITS_PER_KEY && bits < MAX_BITS) bits *= 2;
    this.words = new Uint32Array(bits / 32);
    this.mask = bits - 1;
  }

  /** The filter's size in bytes. */
  get bytes(): number {
    return this.words.byteLength;
  }

  /** Free the bits once the streams are filtered (the rest of the run needs the memory more). */
  release(): void {
    this.words = new Uint32Array(0);
  }

  /** A visit id: lower-case UUID text, `s` from `start` to `end`. */
  addId(s: string, start = 0, end = s.length): void {
    this.hashId(s, start, end);
    this.set();
  }

  hasId(s: string, start = 0, end = s.length): boolean {
    this.hashId(s, start, end);
    return this.test();
  }

  /** A (SSN, VisitDate) group: the trimmed SSN and the date as YYYY-MM-DD, `d` from `start` to `end`. */
  addGroup(ssn: string, d: string, start = 0, end = d.length): void {
    this.hashGroup(ssn, d, start, end);
    this.set();
  }

  hasGroup(ssn: string, d: string, start = 0, end = d.length): boolean {
    this.hashGroup(ssn, d, start, end);
    return this.test();
  }

  // Two independent 32-bit hashes in one pass over the characters (FNV-1a and a murmur-style
  // multiply); the k bit positions are h1 + i·h2 (Kirsch and Mitzenmacher).
  private begin(): void {
    this.h1 = 0x811c9dc5;
    this.h2 = 0x9747b28c;
  }

  private mix(c: number): void {
    this.h1 = Math.imul(this.h1 ^ c, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ c, 0x5bd1e995);
    this.h2 ^= this.h2 >>> 15;
  }

  private hashId(s: string, start: number, end: number): void {
    this.begin();
    for (let i = start; i < end; i++) this.mix(s.charCodeAt(i));
  }

  private hashGroup(ssn: string, d: string, start: number, end: number): void {
    this.begin();
    for (let i = 0; i < ssn.length; i++) this.mix(ssn.charCodeAt(i));
    this.mix(GROUP_SEPARATOR);
    for (let i = start; i < end; i++) this.mix(d.charCodeAt(i));
  }

  private set(): void {
    const h1 = fmix(this.h1);
    const h2 = fmix(this.h2) | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.words[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  private test(): boolean {
    if (this.words.length === 0) throw new Error('internal: KeyFilter used after release()');
    const h1 = fmix(this.h1);
    const h2 = fmix(this.h2) | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.words[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

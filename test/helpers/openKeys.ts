// The open rows' keys as they travel (OpenKeys, src/detection/types.ts), for tests on both sides.

/** A packed (SSN, VisitDate) group: the date `YYYY-MM-DD`, then the hexadecimal of the SSN's UTF-8 bytes. */
export function packedGroup(ssn: string, date: string): string {
  return `${date}${Buffer.from(ssn, 'utf8').toString('hex')}`;
}

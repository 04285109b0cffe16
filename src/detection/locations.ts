// What step 2 derives from places (detection.md, "Coordinates" and "Cross-state filter"): the GPS
// text pattern, coordinate ranges, and state names written as two-letter codes.
import type { Ctx } from './context.js';
import { STATE_NAME_CODES } from './states.js';

/** A plain decimal: optional sign, digits with optional point and fraction, or point and digits. */
const NUMBER_RE = '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)';
/**
 * GPS text `lat,lon`: exactly one comma, each part wrapped in any mix of spaces and double quotes
 * (detection.md, "Coordinates"). Capture groups: 1 = latitude, 4 = longitude. No backslashes, so the
 * literal reads the same on both engines.
 */
export const GPS_RE = `^[ "]*(${NUMBER_RE})[ "]*,[ "]*(${NUMBER_RE})[ "]*$`;
export const GPS_LAT_GROUP = 1;
export const GPS_LON_GROUP = 4;

/** trim, upper-case, empty → NULL, full state names → two-letter codes. */
export function normalisedState(x: Ctx, expr: string): string {
  const whens = STATE_NAME_CODES.map(([name, code]) => `WHEN ${x.str(name)} THEN ${x.str(code)}`).join(' ');
  const s = `NULLIF(UPPER(${x.d.trimSpaces(expr)}), '')`;
  return `CASE ${s} ${whens} ELSE ${s} END`;
}

export function inRange(lat: string, lon: string): string {
  return `COALESCE(${lat} BETWEEN -90 AND 90 AND ${lon} BETWEEN -180 AND 180, false)`;
}

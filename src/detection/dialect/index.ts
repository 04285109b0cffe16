// The dialect of a warehouse session.
import type { Dialect } from '../../warehouse/warehouse.js';
import type { SqlDialect } from './dialect.js';
import { duckdbDialect } from './duckdb.js';
import { snowflakeDialect } from './snowflake.js';

export type { SqlDialect } from './dialect.js';

export function sqlDialect(name: Dialect): SqlDialect {
  return name === 'duckdb' ? duckdbDialect : snowflakeDialect;
}

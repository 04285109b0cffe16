/** `sql --dialect snowflake|duckdb`: every statement a run would send, parameters bound. */
export async function sqlCommand(_argv: string[]): Promise<number> {
  console.log('sql: not implemented yet');
  return 0;
}

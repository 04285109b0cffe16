/** `demo`: the embedded-default walk-through (operations.md, "Embedded default"). */
export async function demoCommand(_argv: string[]): Promise<number> {
  console.log('demo: not implemented yet');
  return 0;
}

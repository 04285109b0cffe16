/** `bench --profile P --json FILE`: the benchmark of performance.md. */
export async function benchCommand(_argv: string[]): Promise<number> {
  console.log('bench: not implemented yet');
  return 0;
}

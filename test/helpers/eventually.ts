/**
 * Resolves once `check` holds, polling every 100 ms, with how long that took;
 * fails after `timeoutMs`, naming `what`. An error thrown by `check` fails at once.
 */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

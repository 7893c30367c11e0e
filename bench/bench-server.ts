import { createTestDatabase } from '../test/helpers/database.js';
import { startTestServer, type TestServer } from '../test/helpers/server.js';

/**
 * Runs one benchmark against its own fresh database and server on loopback,
 * tears both down, and exits non-zero if it failed.
 */
export function runBench(name: string, body: (server: TestServer) => Promise<void>): void {
  (async () => {
    const db = await createTestDatabase();
    const server = await startTestServer(db, { LOG_LEVEL: 'warn' });
    try {
      await body(server);
    } finally {
      await server.close();
      await db.drop();
    }
  })().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${name} failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}

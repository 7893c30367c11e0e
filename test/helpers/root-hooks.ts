import { createTestDatabase } from './database.js';
import { setHarness, harness } from './harness.js';
import { startTestServer } from './server.js';

/**
 * One fresh database and one server for the whole run: a real PostgreSQL
 * (CI's at 127.0.0.1:5432, or an embedded one) and a real gRPC server on a free port.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const db = await createTestDatabase();
    const server = await startTestServer(db);
    setHarness({ db, server });
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    const { db, server } = harness();
    await server.close();
    await db.drop();
    setHarness(undefined);
  },
};

import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { connectOrm, type Orm } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sqlOn } from '../helpers/fixtures.js';
import type { TestServer } from '../helpers/server.js';

/** The migration before session_assurance, and session_assurance. */
const BEFORE = 'Migration20261201170000_refresh_token_history';
const SESSION_ASSURANCE = 'Migration20261202110000_session_assurance';

describe('Migration session_assurance', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let orm: Orm;
  // sqlOn only reads the database URL of the server it is given.
  const on = () => ({ env: { DATABASE_URL: db.url } }) as unknown as TestServer;

  before(async () => {
    db = await createTestDatabase();
    orm = await connectOrm(db.url, 2);
    await orm.getMigrator().up({ to: BEFORE });
  });
  after(async () => {
    await orm.close();
    await db.drop();
  });

  it('gives existing sessions their creation as authentication time, "pwd" for password accounts and "fed" for provider-only ones, aal1', async () => {
    const withPassword = randomUUID();
    const providerOnly = randomUUID();
    const created = new Date('2026-11-30T08:00:00Z');
    for (const [id, hash] of [
      [withPassword, '$argon2id$stand-in'],
      [providerOnly, null],
    ] as const) {
      await sqlOn(
        on(),
        `insert into users (id, email, password_hash, created_at, updated_at) values ($1, $2, $3, now(), now())`,
        [id, `${id}@example.com`, hash],
      );
      await sqlOn(
        on(),
        `insert into sessions (id, user_id, refresh_token_hash, created_at, expires_at, last_used_at) values ($1, $1, $2, $3, now() + interval '1 day', now())`,
        [id, `hash-${id}`, created],
      );
    }

    await orm.getMigrator().up({ to: SESSION_ASSURANCE });

    const rows = await sqlOn<{ id: string; authenticated_at: Date; amr: string[]; acr: string }>(
      on(),
      'select id, authenticated_at, amr, acr from sessions order by id',
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(withPassword)).to.deep.include({ authenticated_at: created, amr: ['pwd'], acr: 'aal1' });
    expect(byId.get(providerOnly)).to.deep.include({ authenticated_at: created, amr: ['fed'], acr: 'aal1' });
  });
});

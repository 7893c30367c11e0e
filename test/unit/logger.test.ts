import { OptimisticLockError } from '@mikro-orm/core';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { harness } from '../helpers/harness.js';
import { LogCapture } from '../helpers/server.js';

describe('Logger', () => {
  it('logs a database error with its reason but without the statement values', async () => {
    const secret = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$never-in-a-log';
    let failure: unknown;
    try {
      // A foreign-key violation: the driver error carries the statement with its values inlined.
      await harness()
        .server.tessera.orm.em.fork()
        .getConnection()
        .execute(
          `insert into sessions (id, user_id, refresh_token_hash, created_at, expires_at, last_used_at, authenticated_at, amr, acr) values (?, ?, ?, now(), now(), now(), now(), '{pwd}', 'aal1')`,
          ['00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000a2', secret],
        );
    } catch (err) {
      failure = err;
    }
    expect(String((failure as Error).message), 'the raw error does carry the value').to.contain(secret);

    const logs = new LogCapture();
    createLogger('info', logs).error({ err: failure }, 'query failed');
    await new Promise((resolve) => setImmediate(resolve));
    const line = logs.text();
    expect(line).to.not.contain(secret);
    expect(line).to.not.contain('0000000000a2');
    expect(line).to.contain('violates foreign key constraint');
    expect(JSON.parse(line).err.code).to.equal('23503');
  });

  it('logs an ORM error without the entity it carries (an optimistic-lock failure holds the whole row)', async () => {
    // MikroORM attaches the entity to the error: here a user row with its email and password hash.
    class User {
      id = '00000000-0000-7000-8000-0000000000b1';
      email = 'victim@example.com';
      passwordHash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$never-in-a-log';
      phoneNumberCiphertext = 'v1.sealed-phone';
    }
    const failure = OptimisticLockError.lockFailed(new User());
    expect((failure as unknown as { entity: User }).entity.email, 'the raw error does carry the row').to.equal(
      'victim@example.com',
    );

    const logs = new LogCapture();
    createLogger('info', logs).error({ err: failure }, 'flush failed');
    await new Promise((resolve) => setImmediate(resolve));
    const line = logs.text();
    expect(line).to.not.match(/victim@example\.com|argon2id|sealed-phone/);
    expect(JSON.parse(line).err.message).to.equal('The optimistic lock on entity User failed');
  });

  it('censors well-known secret keys wherever they are logged', async () => {
    const logs = new LogCapture();
    createLogger('info', logs).info({ password: 'p4ss', request: { refreshToken: 'tsr_x', authorization: 'Bearer y' } }, 'oops');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.text()).to.not.match(/p4ss|tsr_x|Bearer y/);
  });
});

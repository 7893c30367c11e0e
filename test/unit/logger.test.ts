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
          `insert into sessions (id, user_id, refresh_token_hash, created_at, expires_at, last_used_at) values (?, ?, ?, now(), now(), now())`,
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

  it('censors well-known secret keys wherever they are logged', async () => {
    const logs = new LogCapture();
    createLogger('info', logs).info({ password: 'p4ss', request: { refreshToken: 'tsr_x', authorization: 'Bearer y' } }, 'oops');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.text()).to.not.match(/p4ss|tsr_x|Bearer y/);
  });
});

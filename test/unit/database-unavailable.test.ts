import { expect } from 'chai';
import { isDatabaseUnavailable } from '../../src/db/index.js';

/** An error as node-postgres (and MikroORM's DriverException, which copies it) reports one. */
const pgError = (code: string, message = 'error') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('is true for lost connections and a server shutting down or refusing connections', () => {
    for (const code of ['ECONNREFUSED', '08006', '08001', '57P01', '53300']) {
      expect(isDatabaseUnavailable(pgError(code)), code).to.equal(true);
    }
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(true);
  });

  it('is false for a statement refused for its content: a data exception is never an outage', () => {
    // 22021: NUL in a text parameter; 22P05: \u0000 in jsonb; 08P01: NUL inlined into the statement text.
    for (const code of ['22021', '22P05', '22001', '08P01']) {
      expect(isDatabaseUnavailable(pgError(code, 'invalid message format')), code).to.equal(false);
    }
  });
});

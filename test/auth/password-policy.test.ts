import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { commonPasswordCount } from '../../src/domain/kernel/common-passwords.js';
import { uniqueEmail } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { call } from '../helpers/server.js';

const register = (email: string, password: string) =>
  call(harness().server.auth, 'register', { email, password, fullName: 'Policy' });

describe('Password policy (NIST SP 800-63B)', () => {
  it('bundles at least the 10,000 most common passwords', () => {
    expect(commonPasswordCount()).to.be.at.least(9_900);
  });

  for (const common of ['password', '12345678', 'iloveyou', 'Football1', 'QWERTY123', 'ｐａｓｓｗｏｒｄ１']) {
    it(`refuses the common password "${common}" on registration, in any letter case and after NFKC`, async () => {
      const details = await expectRpcError(register(uniqueEmail(), common), status.INVALID_ARGUMENT, { fields: ['password'] });
      expect(details.badRequest!.fieldViolations[0].description).to.contain('most common passwords');
    });
  }

  it('refuses the email address, or its local part, as the password', async () => {
    const email = uniqueEmail('policy');
    await expectRpcError(register(email, email.toUpperCase()), status.INVALID_ARGUMENT, { fields: ['password'] });
    await expectRpcError(register(email, email.slice(0, email.indexOf('@'))), status.INVALID_ARGUMENT, { fields: ['password'] });
  });

  it('asks for no composition rules: a long lower-case passphrase is fine', async () => {
    await register(uniqueEmail(), 'plain lower case words only');
  });
});

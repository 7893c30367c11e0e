import { expect } from 'chai';
import type { Principal } from '../../src/domain/kernel/principal.js';
import { principalHasPermission, roleWithinPrincipal } from '../../src/domain/kernel/permissions.js';

const user = (role: 'user' | 'admin' | 'auditor' | 'service'): Principal => ({
  kind: 'user',
  userId: 'u',
  sessionId: 's',
  role,
  tokenExpiresAt: new Date(),
  authTime: new Date(),
  amr: ['pwd'],
  acr: 'aal1',
});
const serviceAccount = (role: 'admin' | 'auditor' | 'service'): Principal => ({
  kind: 'service_account',
  serviceAccountId: 'a',
  name: 'n',
  role,
});

describe('permissions', () => {
  describe('principalHasPermission', () => {
    it('gives a service account the permissions of its role', () => {
      expect(principalHasPermission(serviceAccount('service'), 'users:write')).to.equal(true);
      expect(principalHasPermission(serviceAccount('service'), 'roles:assign')).to.equal(false);
      expect(principalHasPermission(serviceAccount('admin'), 'roles:assign')).to.equal(true);
    });

    it('gives the system everything and an anonymous caller nothing', () => {
      expect(principalHasPermission({ kind: 'system' }, 'service_accounts:manage')).to.equal(true);
      expect(principalHasPermission({ kind: 'anonymous' }, 'profile:read')).to.equal(false);
    });
  });

  describe('roleWithinPrincipal (a new service account never outranks its creator)', () => {
    it('lets an admin grant any role', () => {
      for (const role of ['user', 'admin', 'auditor', 'service'] as const)
        expect(roleWithinPrincipal(role, user('admin')), role).to.equal(true);
    });

    it('refuses roles that grant something the creator lacks', () => {
      expect(roleWithinPrincipal('admin', serviceAccount('service'))).to.equal(false);
      expect(roleWithinPrincipal('auditor', serviceAccount('service'))).to.equal(false);
      expect(roleWithinPrincipal('service', user('auditor'))).to.equal(false);
      expect(roleWithinPrincipal('service', serviceAccount('service'))).to.equal(true);
    });

    it('lets the system (CLI) grant any role and an anonymous caller none', () => {
      expect(roleWithinPrincipal('admin', { kind: 'system' })).to.equal(true);
      expect(roleWithinPrincipal('user', { kind: 'anonymous' })).to.equal(false);
    });
  });
});

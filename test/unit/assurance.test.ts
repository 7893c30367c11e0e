import { expect } from 'chai';
import { assuranceLevel, assuranceOf, providerAmr } from '../../src/domain/auth/assurance.js';

describe('assurance', () => {
  describe('assuranceLevel', () => {
    it('is aal1 for a password alone', () => {
      expect(assuranceLevel(['pwd'])).to.equal('aal1');
    });

    it('is aal2 for a password and an authenticator code: two kinds of factor', () => {
      expect(assuranceLevel(['pwd', 'otp'])).to.equal('aal2');
      expect(assuranceLevel(['pwd', 'otp', 'mfa'])).to.equal('aal2');
      expect(assuranceLevel(['pin', 'hwk'])).to.equal('aal2');
    });

    it('counts nothing twice: two knowledge factors, or two possession factors, stay aal1', () => {
      expect(assuranceLevel(['pwd', 'pwd'])).to.equal('aal1');
      expect(assuranceLevel(['pwd', 'kba'])).to.equal('aal1');
      expect(assuranceLevel(['otp', 'hwk'])).to.equal('aal1');
    });

    it('gives no factor to methods that are none: federation, user presence, risk', () => {
      expect(assuranceLevel(['fed'])).to.equal('aal1');
      expect(assuranceLevel(['pwd', 'user'])).to.equal('aal1');
      expect(assuranceLevel(['otp', 'rba', 'geo'])).to.equal('aal1');
      expect(assuranceLevel([])).to.equal('aal1');
    });

    it('takes a provider\'s "mfa" for the multi-factor sign-in it asserts', () => {
      expect(assuranceLevel(['mfa'])).to.equal('aal2');
    });
  });

  describe('assuranceOf', () => {
    it('drops duplicate methods and stamps the time in whole seconds, as auth_time carries it', () => {
      const now = new Date('2026-12-01T10:00:00.750Z');
      expect(assuranceOf(['pwd', 'pwd'], now)).to.deep.equal({
        authenticatedAt: new Date('2026-12-01T10:00:00Z'),
        amr: ['pwd'],
        acr: 'aal1',
      });
    });
  });

  describe('providerAmr', () => {
    it("keeps the provider's RFC 8176 values and drops its private vocabulary", () => {
      expect(providerAmr(['pwd', 'mfa', 'ngcmfa', 'wiaormfa'])).to.deep.equal(['pwd', 'mfa']);
    });

    it('says "fed" when nothing registered was asserted', () => {
      expect(providerAmr([])).to.deep.equal(['fed']);
      expect(providerAmr(['password'])).to.deep.equal(['fed']);
    });
  });
});

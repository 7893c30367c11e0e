import { expect } from 'chai';
import { Violations } from '../../src/domain/kernel/errors.js';
import {
  checkEmail,
  checkNewPassword,
  EMAIL_LOCAL_PART_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  normalizeEmail,
} from '../../src/domain/kernel/validation.js';

/** Runs a check and returns its result and the descriptions it recorded. */
function run<T>(check: (violations: Violations) => T): { value: T; problems: string[] } {
  const violations = new Violations();
  const value = check(violations);
  let problems: string[] = [];
  try {
    violations.throwIfAny('TEST-001');
  } catch (err) {
    problems = (err as { violations: { description: string }[] }).violations.map((v) => v.description);
  }
  return { value, problems };
}

describe('normalizeEmail', () => {
  it('trims surrounding whitespace', () => {
    expect(normalizeEmail('  ana@example.com \t\n')).to.equal('ana@example.com');
  });

  it('lower-cases', () => {
    expect(normalizeEmail('Ana.Silva@Example.COM')).to.equal('ana.silva@example.com');
  });

  it('applies NFKC, so full-width and compatibility forms compare equal', () => {
    expect(normalizeEmail('ＡＮＡ@ｅｘａｍｐｌｅ.com')).to.equal('ana@example.com');
    expect(normalizeEmail('ﬁona@example.com')).to.equal('fiona@example.com');
  });

  it('maps a decomposed accent to the composed form', () => {
    expect(normalizeEmail('jose\u0301@example.com')).to.equal('jos\u00e9@example.com');
  });
});

describe('checkEmail', () => {
  const domain = '@example.com';

  it('returns the normalized address when valid', () => {
    const { value, problems } = run((v) => checkEmail('email', ' Ana@Example.com ', v));
    expect(problems).to.deep.equal([]);
    expect(value).to.equal('ana@example.com');
  });

  it('requires a value', () => {
    expect(run((v) => checkEmail('email', '   ', v)).problems).to.deep.equal(['is required']);
  });

  it(`accepts a local part of ${EMAIL_LOCAL_PART_MAX_LENGTH} characters and refuses one more`, () => {
    expect(run((v) => checkEmail('email', `${'a'.repeat(64)}${domain}`, v)).problems).to.deep.equal([]);
    const { value, problems } = run((v) => checkEmail('email', `${'a'.repeat(65)}${domain}`, v));
    expect(value).to.equal('');
    expect(problems[0]).to.contain('local part');
  });

  it(`accepts ${EMAIL_MAX_LENGTH} characters in all and refuses one more`, () => {
    const label = 'b'.repeat(60);
    const host = `${label}.${label}.${label}.abcdef`; // 189 characters, leaving 64 for the local part
    const fits = `${'a'.repeat(EMAIL_MAX_LENGTH - host.length - 1)}@${host}`;
    expect(fits).to.have.length(EMAIL_MAX_LENGTH);
    expect(run((v) => checkEmail('email', fits, v)).problems).to.deep.equal([]);
    const { problems } = run((v) => checkEmail('email', `a${fits}`, v));
    expect(problems[0]).to.contain(`at most ${EMAIL_MAX_LENGTH}`);
  });

  for (const bad of ['plainaddress', 'a@b', 'a b@example.com', 'a@example', '"quoted"@example.com', 'a@-example.com']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      expect(run((v) => checkEmail('email', bad, v)).problems).to.have.length(1);
    });
  }
});

describe('checkNewPassword', () => {
  it('counts code points, not UTF-16 units: 8 emoji pass, 7 do not', () => {
    const eight = '🔑'.repeat(8);
    expect(eight).to.have.length(16);
    expect(run((v) => checkNewPassword('password', eight, v, '')).problems).to.deep.equal([]);
    expect(run((v) => checkNewPassword('password', '🔑'.repeat(7), v, '')).problems[0]).to.contain('at least 8');
  });

  it('accepts 256 code points and refuses 257', () => {
    expect(run((v) => checkNewPassword('password', '🔑'.repeat(256), v, '')).problems).to.deep.equal([]);
    expect(run((v) => checkNewPassword('password', '🔑'.repeat(257), v, '')).problems[0]).to.contain('at most 256');
  });

  it('refuses 7 ASCII characters and accepts 8', () => {
    expect(run((v) => checkNewPassword('password', 'qzvbkwm', v, '')).problems).to.have.length(1);
    expect(run((v) => checkNewPassword('password', 'qzvbkwmx', v, '')).problems).to.deep.equal([]);
  });

  it('returns the NFKC form, so the same characters typed differently hash alike', () => {
    const { value } = run((v) => checkNewPassword('password', 'ｑｕｉｅｔ ｏｔｔｅｒ ７', v, ''));
    expect(value).to.equal('quiet otter 7');
    expect(run((v) => checkNewPassword('password', 'cafe\u0301 au lait', v, '')).value).to.equal('caf\u00e9 au lait');
  });

  it('refuses a password from the common-password list in any letter case, and after NFKC', () => {
    for (const common of ['password', 'PASSWORD1', 'iloveyou', 'Qwerty123', 'ｐａｓｓｗｏｒｄ１２']) {
      expect(run((v) => checkNewPassword('password', common, v, '')).problems[0], common).to.contain('most common passwords');
    }
  });

  it('refuses the email address or its local part as the password, in any letter case', () => {
    const email = 'ada.lovelace@example.com';
    expect(run((v) => checkNewPassword('password', 'Ada.Lovelace@Example.com', v, email)).problems[0]).to.contain('email');
    expect(run((v) => checkNewPassword('password', 'ADA.LOVELACE', v, email)).problems[0]).to.contain('email');
    expect(run((v) => checkNewPassword('password', 'ada.lovelace!', v, email)).problems).to.deep.equal([]);
  });

  it('names the field it was given', () => {
    const violations = new Violations();
    checkNewPassword('new_password', 'short', violations, '');
    expect(() => violations.throwIfAny('TEST-002'))
      .to.throw()
      .that.satisfies((err: { violations: { field: string }[] }) => err.violations[0].field === 'new_password');
  });
});

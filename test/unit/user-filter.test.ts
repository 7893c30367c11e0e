import { expect } from 'chai';
import { DomainError } from '../../src/domain/kernel/errors.js';
import { parseUserFilter } from '../../src/domain/identity/user-filter.js';

/** The BadRequest description a filter is refused with. */
function refusal(filter: string): string {
  try {
    parseUserFilter(filter, 'TEST-001');
  } catch (err) {
    expect(err).to.be.instanceOf(DomainError);
    const e = err as DomainError;
    expect(e.kind).to.equal('invalid_argument');
    expect(e.violations.map((v) => v.field)).to.deep.equal(['filter']);
    return e.violations[0].description;
  }
  throw new Error(`filter ${JSON.stringify(filter)} was accepted`);
}

describe('parseUserFilter', () => {
  it('reads an empty or blank filter as no condition', () => {
    expect(parseUserFilter('', 'T')).to.deep.equal([]);
    expect(parseUserFilter('   ', 'T')).to.deep.equal([]);
  });

  it('parses the documented example into typed conditions', () => {
    const conditions = parseUserFilter(
      'status = "active" AND role = "admin" AND email = "Ali@Example.com" AND create_time >= "2026-01-01T00:00:00Z" AND app_metadata.plan = "pro"',
      'T',
    );
    expect(conditions).to.deep.equal([
      { field: 'status', op: '=', value: 'active' },
      { field: 'role', op: '=', value: 'admin' },
      { field: 'email', op: '=', value: 'ali@example.com' },
      { field: 'created_at', op: '>=', value: new Date('2026-01-01T00:00:00Z') },
      { field: 'app_metadata', op: '=', path: ['plan'], value: 'pro' },
    ]);
  });

  it('accepts enum values bare, quoted, in any case and with their proto prefix', () => {
    expect(parseUserFilter('status = suspended', 'T')).to.deep.equal([{ field: 'status', op: '=', value: 'suspended' }]);
    expect(parseUserFilter('role != "ROLE_AUDITOR"', 'T')).to.deep.equal([{ field: 'role', op: '!=', value: 'auditor' }]);
    expect(parseUserFilter('status=USER_STATUS_DELETED', 'T')).to.deep.equal([{ field: 'status', op: '=', value: 'deleted' }]);
  });

  it('types app_metadata values: string, number, boolean; nested keys; has-key', () => {
    expect(
      parseUserFilter('app_metadata.seats = 5 AND app_metadata.beta = true AND app_metadata.limits.tier != "x"', 'T'),
    ).to.deep.equal([
      { field: 'app_metadata', op: '=', path: ['seats'], value: 5 },
      { field: 'app_metadata', op: '=', path: ['beta'], value: true },
      { field: 'app_metadata', op: '!=', path: ['limits', 'tier'], value: 'x' },
    ]);
    expect(parseUserFilter('app_metadata.tenant:*', 'T')).to.deep.equal([{ field: 'app_metadata', op: 'has', path: ['tenant'] }]);
  });

  it('normalizes an exact email and keeps escaped quotes in strings', () => {
    expect(parseUserFilter('email = " Ada@Example.COM "', 'T')).to.deep.equal([
      { field: 'email', op: '=', value: 'ada@example.com' },
    ]);
    expect(parseUserFilter('app_metadata.note = "say \\"hi\\""', 'T')).to.deep.equal([
      { field: 'app_metadata', op: '=', path: ['note'], value: 'say "hi"' },
    ]);
  });

  const refused: [string, RegExp][] = [
    ['nickname = "x"', /unknown field "nickname"; known fields: status, role, email/],
    ['status = "sleeping"', /status must be one of active, suspended, deleted/],
    ['role > "admin"', /role supports = and != only/],
    ['status = "active" OR role = "admin"', /OR is not supported/],
    ['NOT status = "active"', /NOT is not supported/],
    ['AND status = "active"', /expected a field/],
    ['status = "active" role = "admin"', /expected AND between comparisons, found "role"/],
    ['status = "active" AND', /unexpected end of filter: expected a field/],
    ['status', /unexpected end of filter: expected an operator after "status"/],
    ['status =', /expected a value after "status ="/],
    ['status = = "x"', /at position 10: expected a value/],
    ['email:"ali*"', /email supports = \(exact address\) only: addresses are stored encrypted/],
    ['email = ali', /needs a quoted string/],
    ['email > "a"', /email supports = \(exact address\) only/],
    ['create_time > "yesterday"', /RFC 3339 time/],
    ['created_at != "2026-01-01T00:00:00Z"', /created_at supports =, <, <=, > and >= only/],
    ['app_metadata = "x"', /name a key: app_metadata.KEY/],
    ['app_metadata.plan > 3', /app_metadata keys support =, != and :\* only/],
    ['app_metadata.plan:"pro"', /only takes \*/],
    ['app_metadata.pl an = 1', /expected an operator/],
    ['app_metadata.a$b = 1', /unexpected character "\$"/],
    ['app_metadata.plan = pro', /needs a quoted string, a number, true or false/],
    ['status = "active', /unterminated string/],
    ['status ! "x"', /"!" must be followed by "="/],
    ['(status = "active")', /unexpected character "\("/],
  ];
  for (const [filter, description] of refused) {
    it(`refuses ${JSON.stringify(filter)} saying what is wrong`, () => {
      expect(refusal(filter)).to.match(description);
    });
  }

  it('refuses more than 20 comparisons and filters over 2000 characters', () => {
    expect(refusal(Array.from({ length: 21 }, () => 'status = active').join(' AND '))).to.match(/at most 20 comparisons/);
    expect(refusal(`email = "${'a'.repeat(2001)}"`)).to.match(/at most 2000 characters/);
  });
});

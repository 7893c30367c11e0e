import { expect } from 'chai';
import type { FieldViolation } from '../../src/domain/kernel/errors.js';
import { loadTesseraPackageDefinition } from '../../src/rpc/proto-definitions.js';
import { readRequestShapes } from '../../src/rpc/request-shape.js';

const shapes = readRequestShapes(loadTesseraPackageDefinition());

/** The violations the shape check of `path` records for `request`. */
function violationsOf(path: string, request: unknown): FieldViolation[] {
  try {
    shapes.get(`/tessera.v1.${path}`)!(request);
    return [];
  } catch (err) {
    return (err as { violations: FieldViolation[] }).violations;
  }
}

describe('request shape (every string and JSON field of every request)', () => {
  it('has a check for every RPC', () => {
    expect(shapes.size).to.be.greaterThan(30);
    expect(shapes.has('/tessera.v1.ComplianceService/StreamAuditEvents')).to.equal(true);
  });

  it('refuses an oversized string in any field, naming it, without looking further into it', () => {
    const bomb = '\uFDFA'.repeat(1_000_000);
    const started = process.hrtime.bigint();
    const violations = violationsOf('AuthService/Register', { email: 'a@example.com', password: bomb, fullName: bomb });
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.below(20);
    expect(violations.map((v) => v.field)).to.deep.equal(['password', 'full_name']);
  });

  it('names nested, repeated and field-mask strings by their proto path', () => {
    const violations = violationsOf('ProfileService/UpdateProfile', {
      profile: { fullName: 'a\u0000', bio: 'fine' },
      updateMask: ['full_name', 'bio\u0000'],
    });
    expect(violations.map((v) => v.field)).to.deep.equal(['profile.full_name', 'update_mask[1]']);
    expect(violationsOf('ComplianceService/ListAuditEvents', { filter: { actorId: '\u0000' } })[0].field).to.equal(
      'filter.actor_id',
    );
  });

  it('checks Struct fields as JSON: NUL at any depth, depth and size', () => {
    const nul = violationsOf('IdentityService/UpdateUser', { user: { id: 'x', appMetadata: { plan: { tier: ['pro\u0000'] } } } });
    expect(nul.map((v) => v.field)).to.deep.equal(['user.app_metadata.plan.tier[0]']);
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = { d: deep };
    expect(violationsOf('ProfileService/UpdateProfile', { profile: { preferences: deep } })[0].field).to.equal(
      'profile.preferences',
    );
  });

  it('lets well-formed requests through', () => {
    expect(violationsOf('AuthService/Login', { email: 'ana@example.com', password: 'quiet otter 7' })).to.deep.equal([]);
    expect(
      violationsOf('ProfileService/UpdateProfile', { profile: { preferences: { theme: 'dark', tags: ['a'] } }, updateMask: [] }),
    ).to.deep.equal([]);
  });
});

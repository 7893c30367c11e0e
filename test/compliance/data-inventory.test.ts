import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from '../helpers/fixtures.js';
import { PROJECT_ROOT } from '../helpers/process.js';

/**
 * What every text, JSON, array and bytea column of the schema holds:
 * `personal` (a person's data, sealed or not, or what is derived from it),
 * `secret` (a credential of a person: a hash or ciphertext of it), both of
 * which the README's data inventory must name as `table.column`, or `none`
 * with the reason nothing personal is in it. A new column fails the test
 * until it is classified here, and named in the inventory if it is personal.
 */
const CLASSIFICATION: Record<string, 'personal' | 'secret' | { none: string }> = {
  'audit_events.type': { none: 'an event type of the catalogue' },
  'audit_events.actor_type': { none: 'user, service account or system' },
  'audit_events.actor_id': { none: 'an account id: the trail keeps ids, nothing personal, after an erasure' },
  'audit_events.ip': 'personal',
  'audit_events.user_agent': 'personal',
  'audit_events.request_id': { none: 'a correlation id' },
  'audit_events.metadata': 'personal',
  'email_outbox.template': { none: 'a template name' },
  'email_outbox.payload_ciphertext': 'personal',
  'email_outbox.status': { none: 'pending, sent or failed' },
  'email_outbox.last_error': 'personal',
  'erasure_receipts.jws': 'personal',
  'mfa_challenges.challenge_hash': 'secret',
  'mfa_challenges.method': { none: 'an MFA method name' },
  'mfa_challenges.first_factor_amr': { none: 'authentication method references such as ["pwd"]' },
  'mikro_orm_migrations.name': { none: 'a migration name' },
  'one_time_tokens.purpose': { none: 'what the token is for' },
  'one_time_tokens.token_hash': 'secret',
  'one_time_tokens.email_index': 'personal',
  'one_time_tokens.email_ciphertext': 'personal',
  'recovery_codes.code_hash': 'secret',
  'refresh_token_history.token_hash': 'secret',
  'service_accounts.name': { none: "a backend's name, not a person's" },
  'service_accounts.role': { none: 'a role name' },
  'service_accounts.api_key_hash': { none: "a backend's credential, not a person's" },
  'service_accounts.api_key_prefix': { none: "the public prefix of a backend's key" },
  'service_accounts.certificate_identity': { none: "a backend's certificate name" },
  'sessions.refresh_token_hash': 'secret',
  'sessions.revoke_reason': { none: 'a reason code' },
  'sessions.ip': 'personal',
  'sessions.user_agent': 'personal',
  'sessions.previous_refresh_token_hash': 'secret',
  'sessions.successor_ciphertext': 'secret',
  'sessions.acr': { none: 'an assurance level' },
  'sessions.amr': { none: 'authentication method references' },
  'signing_keys.kid': { none: "the service's signing key" },
  'signing_keys.alg': { none: "the service's signing key" },
  'signing_keys.public_jwk': { none: "the service's signing key" },
  'signing_keys.private_jwk_ciphertext': { none: "the service's signing key" },
  'signing_keys.state': { none: "the service's signing key" },
  'social_logins.provider': 'personal',
  'social_logins.provider_subject_index': 'personal',
  'social_logins.provider_subject_ciphertext': 'personal',
  'social_logins.email_ciphertext': 'personal',
  'totp_factors.secret_ciphertext': 'secret',
  'user_keys.key_id': { none: 'a key id' },
  'user_keys.wrapped_key': { none: 'a data key, not data: destroying it is the erasure (README, Per-user data keys)' },
  'user_keys.master_key_id': { none: 'a master key id' },
  'user_profiles.full_name': 'personal',
  'user_profiles.avatar_url': 'personal',
  'user_profiles.bio': 'personal',
  'user_profiles.location': 'personal',
  'user_profiles.phone_number_ciphertext': 'personal',
  'user_profiles.preferences': 'personal',
  'users.password_hash': 'secret',
  'users.role': { none: 'a role name' },
  'users.status': { none: 'active, suspended or deleted' },
  'users.app_metadata': 'personal',
  'users.password_pepper_id': { none: 'a pepper id' },
  'users.email_index': 'personal',
  'users.email_ciphertext': 'personal',
};

/** Every `table.column` named in the README's data inventory table. */
function inventoryColumns(): Set<string> {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('Data inventory:');
  expect(start, 'the README has a data inventory').to.be.greaterThan(-1);
  const table = readme.slice(start).split('\n\n')[1]!;
  return new Set([...table.matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1]!));
}

describe('The data inventory', () => {
  it('classifies every text, JSON, array and bytea column of the schema, and the README names every personal one', async () => {
    const columns = await sql<{ name: string }>(
      `select c.table_name || '.' || c.column_name as name from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
          and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED', 'inet', 'cidr')
        order by 1`,
    );
    expect(columns.length, 'the schema was read').to.be.greaterThan(20);

    const unclassified = columns.map((c) => c.name).filter((name) => !(name in CLASSIFICATION));
    expect(unclassified, 'columns to classify in test/compliance/data-inventory.test.ts').to.deep.equal([]);

    const inventory = inventoryColumns();
    const undocumented = columns
      .map((c) => c.name)
      .filter((name) => typeof CLASSIFICATION[name] === 'string' && !inventory.has(name));
    expect(undocumented, "personal columns missing from the README's data inventory").to.deep.equal([]);
  });

  it('names only columns that exist', async () => {
    const columns = new Set(
      (
        await sql<{ name: string }>(
          `select table_name || '.' || column_name as name from information_schema.columns where table_schema = 'public'`,
        )
      ).map((c) => c.name),
    );
    expect([...inventoryColumns()].filter((name) => !columns.has(name))).to.deep.equal([]);
  });
});

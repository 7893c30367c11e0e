import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122193451_initial } from './Migration20261122193451_initial.js';
import { Migration20261122201643_audit_stream_indexes } from './Migration20261122201643_audit_stream_indexes.js';
import { Migration20261122201651_identity_administration } from './Migration20261122201651_identity_administration.js';
import { Migration20261122201905_lifecycle } from './Migration20261122201905_lifecycle.js';
import { Migration20261201150000_signing_keys_notify } from './Migration20261201150000_signing_keys_notify.js';
import { Migration20261201153000_service_account_certificates } from './Migration20261201153000_service_account_certificates.js';
import { Migration20261201160000_user_keys } from './Migration20261201160000_user_keys.js';
import { Migration20261201170000_refresh_token_history } from './Migration20261201170000_refresh_token_history.js';
import { Migration20261202100000_mfa_factors } from './Migration20261202100000_mfa_factors.js';
import { Migration20261202110000_session_assurance } from './Migration20261202110000_session_assurance.js';
import { Migration20261202120000_email_blind_index } from './Migration20261202120000_email_blind_index.js';
import { Migration20261202130000_retention } from './Migration20261202130000_retention.js';
import { Migration20261202140000_profile_version } from './Migration20261202140000_profile_version.js';
import { Migration20261202150000_drop_clear_emails } from './Migration20261202150000_drop_clear_emails.js';
import { Migration20261202170000_seal_profile_fields } from './Migration20261202170000_seal_profile_fields.js';
import { Migration20261202190000_provider_subject_blind_index } from './Migration20261202190000_provider_subject_blind_index.js';
import { Migration20261202190500_drop_clear_provider_subjects } from './Migration20261202190500_drop_clear_provider_subjects.js';

/** Every migration, in order. Listed explicitly so no file glob is involved at run time. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122193451_initial', class: Migration20261122193451_initial },
  { name: 'Migration20261122201643_audit_stream_indexes', class: Migration20261122201643_audit_stream_indexes },
  { name: 'Migration20261122201651_identity_administration', class: Migration20261122201651_identity_administration },
  { name: 'Migration20261122201905_lifecycle', class: Migration20261122201905_lifecycle },
  { name: 'Migration20261201150000_signing_keys_notify', class: Migration20261201150000_signing_keys_notify },
  {
    name: 'Migration20261201153000_service_account_certificates',
    class: Migration20261201153000_service_account_certificates,
  },
  { name: 'Migration20261201160000_user_keys', class: Migration20261201160000_user_keys },
  { name: 'Migration20261201170000_refresh_token_history', class: Migration20261201170000_refresh_token_history },
  { name: 'Migration20261202100000_mfa_factors', class: Migration20261202100000_mfa_factors },
  { name: 'Migration20261202110000_session_assurance', class: Migration20261202110000_session_assurance },
  { name: 'Migration20261202120000_email_blind_index', class: Migration20261202120000_email_blind_index },
  { name: 'Migration20261202130000_retention', class: Migration20261202130000_retention },
  { name: 'Migration20261202140000_profile_version', class: Migration20261202140000_profile_version },
  { name: 'Migration20261202150000_drop_clear_emails', class: Migration20261202150000_drop_clear_emails },
  { name: 'Migration20261202170000_seal_profile_fields', class: Migration20261202170000_seal_profile_fields },
  {
    name: 'Migration20261202190000_provider_subject_blind_index',
    class: Migration20261202190000_provider_subject_blind_index,
  },
  {
    name: 'Migration20261202190500_drop_clear_provider_subjects',
    class: Migration20261202190500_drop_clear_provider_subjects,
  },
];

/**
 * Migrations that remove what an older version still reads: an existing
 * database gets them only from `tessera migrate --post-deploy`, run once every
 * instance runs this version (a fresh database gets them at once: no older
 * instance can use it). Later migrations never depend on them.
 */
export const POST_DEPLOY_MIGRATIONS: ReadonlySet<string> = new Set([
  'Migration20261202150000_drop_clear_emails',
  'Migration20261202190500_drop_clear_provider_subjects',
]);

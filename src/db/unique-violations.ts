import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';

/** The uniqueness rules of the schema, by what they mean rather than by constraint name. */
export type UniqueRule =
  | 'user_email'
  | 'service_account_live_name'
  | 'service_account_key'
  | 'service_account_certificate_identity'
  | 'social_login_provider_subject'
  | 'social_login_user_provider'
  | 'session_refresh_token'
  | 'one_time_token';

const RULE_BY_CONSTRAINT: Record<string, UniqueRule> = {
  users_email_index_unique: 'user_email',
  service_accounts_live_name_unique: 'service_account_live_name',
  service_accounts_api_key_hash_unique: 'service_account_key',
  service_accounts_live_certificate_identity_unique: 'service_account_certificate_identity',
  social_logins_provider_subject_unique: 'social_login_provider_subject',
  social_logins_provider_subject_index_unique: 'social_login_provider_subject',
  social_logins_user_provider_unique: 'social_login_user_provider',
  sessions_refresh_token_hash_unique: 'session_refresh_token',
  one_time_tokens_token_hash_unique: 'one_time_token',
};

/**
 * Which uniqueness rule a failed write broke, or undefined when `err` is not
 * a unique violation. The constraint names stay here, beside the migrations
 * that create them.
 */
export function violatedUniqueRule(err: unknown): UniqueRule | undefined {
  if (!(err instanceof UniqueConstraintViolationException)) return undefined;
  const constraint = (err as { constraint?: string }).constraint;
  const name = constraint ?? Object.keys(RULE_BY_CONSTRAINT).find((n) => String(err.message).includes(n));
  return name ? RULE_BY_CONSTRAINT[name] : undefined;
}

/** Whether `err` broke `rule` (e.g. `isUniqueViolation(err, 'user_email')`). */
export function isUniqueViolation(err: unknown, rule: UniqueRule): boolean {
  return violatedUniqueRule(err) === rule;
}

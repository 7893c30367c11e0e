import { Migration } from '@mikro-orm/migrations';

/** Second factors: TOTP authenticators, recovery codes and the sign-in challenges waiting for them. */
export class Migration20261202100000_mfa_factors extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "totp_factors" ("user_id" uuid not null, "secret_ciphertext" text not null, "created_at" timestamptz not null, "confirmed_at" timestamptz null, "last_time_step" bigint null, constraint "totp_factors_pkey" primary key ("user_id"));`,
    );
    this.addSql(
      `alter table "totp_factors" add constraint "totp_factors_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create table "recovery_codes" ("id" uuid not null, "user_id" uuid not null, "code_hash" text not null, "created_at" timestamptz not null, "used_at" timestamptz null, constraint "recovery_codes_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);
    this.addSql(`alter table "recovery_codes" add constraint "recovery_codes_code_hash_unique" unique ("code_hash");`);
    this.addSql(
      `alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create table "mfa_challenges" ("id" uuid not null, "challenge_hash" text not null, "user_id" uuid not null, "method" text not null, "first_factor_amr" jsonb not null, "enrollment" boolean not null default false, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "mfa_challenges_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "mfa_challenges_user_id_index" on "mfa_challenges" ("user_id");`);
    this.addSql(`alter table "mfa_challenges" add constraint "mfa_challenges_challenge_hash_unique" unique ("challenge_hash");`);
    this.addSql(
      `alter table "mfa_challenges" add constraint "mfa_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "mfa_challenges";`);
    this.addSql(`drop table if exists "recovery_codes";`);
    this.addSql(`drop table if exists "totp_factors";`);
  }
}

// Accounts and tokens the phases need, made through Tessera's own API before any phase runs.
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { AuthServiceClient } from '../src/gen/tessera/v1/auth_service.js';
import { unary } from './fixtures.js';
import type { Seed } from './jobs.js';
import { BENCH_ADMIN } from './tessera-process.js';

const PASSWORD = 'bench passphrase 1234';
const BUSY_RETRIES = 5;

/**
 * Runs a seeding call again while Tessera answers RESOURCE_EXHAUSTED: on a loaded machine eight
 * registrations at once can outwait the hash queue (PASSWORD_HASH_QUEUE_TIMEOUT_MS). Phases never retry.
 */
async function whileBusy<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if ((err as ServiceError).code !== status.RESOURCE_EXHAUSTED || attempt > BUSY_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/**
 * Registers the accounts the phases sign in with and opens their sessions: one reader,
 * `slots` audit writers and `slots` refresh chains. (Register's phase, which runs before
 * ListUsers, adds enough accounts for full pages of 50.)
 */
export async function seedAccounts(address: string, slots: number): Promise<Seed> {
  const auth = new AuthServiceClient(address, credentials.createInsecure());
  try {
    const emails = Array.from({ length: 1 + 2 * slots }, (_, i) => `seed-${i}@bench.example.com`);
    for (let i = 0; i < emails.length; i += 8) {
      await Promise.all(
        emails
          .slice(i, i + 8)
          .map((email) => whileBusy(() => unary(auth, 'register', { email, password: PASSWORD, fullName: 'Bench Seed' }))),
      );
    }
    const login = (email: string, password = PASSWORD) =>
      whileBusy(() => unary(auth, 'login', { email, password })).then((r) => r.tokens!);
    const admin = await login(BENCH_ADMIN.email, BENCH_ADMIN.password);
    const reader = await login(emails[0]);
    const writers = await Promise.all(emails.slice(1, 1 + slots).map((e) => login(e)));
    const chains = await Promise.all(emails.slice(1 + slots, 1 + 2 * slots).map((e) => login(e)));
    return {
      password: PASSWORD,
      emails,
      accessToken: reader.accessToken,
      refreshTokens: chains.map((t) => t.refreshToken),
      adminToken: admin.accessToken,
      userTokens: writers.map((t) => t.accessToken),
    };
  } finally {
    auth.close();
  }
}

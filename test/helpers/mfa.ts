import { generate } from 'otplib';
import { harness } from './harness.js';
import { signedInUser } from './fixtures.js';
import { bearer, call, type TestServer } from './server.js';

/**
 * A current authenticator code for `secret` by the server's clock. Each call
 * first moves the clock one 30-second step on, so every code is a fresh one
 * (a code is accepted once per step).
 */
export async function nextTotpCode(secret: string, server: TestServer = harness().server): Promise<string> {
  server.clock.advance(30);
  return totpCodeAt(secret, server.clock.now());
}

/** The code of `secret` at `at`. */
export function totpCodeAt(secret: string, at: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(at.getTime() / 1000) });
}

/** A signed-in user with a confirmed authenticator: its secret, recovery codes and the session opened before, reauthenticated with both factors. */
export async function userWithTotp(server: TestServer = harness().server) {
  const user = await signedInUser({ server });
  const enrolment = await call(server.auth, 'enrollTotp', {}, bearer(user.accessToken));
  const confirmed = await call(
    server.auth,
    'confirmTotp',
    { code: await nextTotpCode(enrolment.secret, server) },
    bearer(user.accessToken),
  );
  // The session proves both factors again (aal2), as the step-up RPCs of a factor's owner require.
  const stepped = await call(
    server.auth,
    'reauthenticate',
    { currentPassword: user.password, code: await nextTotpCode(enrolment.secret, server) },
    bearer(user.accessToken),
  );
  return { ...user, accessToken: stepped.accessToken, secret: enrolment.secret, recoveryCodes: confirmed.recoveryCodes };
}

/** The challenge of a password sign-in that asks for a second factor (a user with a confirmed authenticator). */
export async function mfaChallengeOf(
  user: { email: string; password: string },
  server: TestServer = harness().server,
): Promise<string> {
  const login = await call(server.auth, 'login', { email: user.email, password: user.password });
  return login.mfaChallenge!.challengeId;
}

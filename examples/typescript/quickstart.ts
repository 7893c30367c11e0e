/**
 * Tessera from a TypeScript backend: register, sign in, read the profile,
 * and decode an error's reason.
 *
 *   TESSERA_ADDRESS=127.0.0.1:50051 npx tsx examples/typescript/quickstart.ts
 *
 * Prints one `key: value` line per step.
 */
import { callUnary, createTesseraClient, errorDetails } from 'tessera';

const address = process.env.TESSERA_ADDRESS ?? '127.0.0.1:50051';
const email = `ts-example-${Date.now()}@example.com`;
const password = 'correct horse battery staple';

// No credential: Register and Login are public.
const anonymous = createTesseraClient({ address });

const registered = await callUnary(anonymous.auth, 'register', { email, password, fullName: 'Ada Lovelace' });
console.log(`registered: ${registered.user?.id}`);

const signedIn = await callUnary(anonymous.auth, 'login', { email, password });
console.log(`token type: ${signedIn.tokens?.tokenType}`);

// A client acting as the user: every call carries their access token.
const asUser = createTesseraClient({ address, accessToken: signedIn.tokens!.accessToken });
const got = await callUnary(asUser.profile, 'getProfile', { userId: '' });
console.log(`profile name: ${got.profile?.fullName}`);

try {
  await callUnary(anonymous.auth, 'login', { email, password: 'not the password' });
} catch (err) {
  const { errorInfo } = errorDetails(err);
  console.log(`error reason: ${errorInfo?.reason} (domain ${errorInfo?.domain})`);
}

anonymous.close();
asUser.close();

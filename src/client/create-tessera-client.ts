import {
  credentials as grpcCredentials,
  InterceptingCall,
  type ChannelCredentials,
  type ChannelOptions,
  type Interceptor,
} from '@grpc/grpc-js';
import { AuthServiceClient } from '../gen/tessera/v1/auth_service.js';
import { ComplianceServiceClient } from '../gen/tessera/v1/compliance_service.js';
import { IdentityServiceClient } from '../gen/tessera/v1/identity_service.js';
import { ProfileServiceClient } from '../gen/tessera/v1/profile_service.js';
import { DEFAULT_RETRY, readRetryServiceConfig, type RetryOptions } from './retry-policy.js';

/** A bearer credential: a fixed string, or a function read at every call (for tokens that get refreshed). */
export type BearerSource = string | (() => string);

/** Options of {@link createTesseraClient}. */
export interface TesseraClientOptions {
  /** `host:port` of Tessera's gRPC endpoint (or any target grpc-js accepts, e.g. `dns:///tessera.internal:50051`). */
  address: string;
  /** Channel credentials; plaintext when omitted (loopback, or TLS ended by a sidecar). */
  credentials?: ChannelCredentials;
  /** A service account's API key (`tsk_...`), sent as `authorization: Bearer ...`. */
  apiKey?: BearerSource;
  /** A user's access token, sent as `authorization: Bearer ...`. Give either this or `apiKey`. */
  accessToken?: BearerSource;
  /** Deadline of every unary call that sets none itself (default 10 s). Streams get none. */
  deadlineMs?: number;
  /** Retry policy of the idempotent reads (see retry-policy.ts); `false` turns retries off. */
  retry?: RetryOptions | false;
  /** Extra channel options, e.g. `{ 'grpc.lb_policy_name': 'round_robin' }`. */
  channelOptions?: ChannelOptions;
}

/** The four Tessera services on one shared channel configuration. */
export interface TesseraClient {
  auth: AuthServiceClient;
  profile: ProfileServiceClient;
  identity: IdentityServiceClient;
  compliance: ComplianceServiceClient;
  /** Closes the four clients' channels. */
  close(): void;
}

const DEFAULT_DEADLINE_MS = 10_000;

/**
 * Adds `authorization: Bearer <credential>` unless the call set its own
 * (a backend acting for one user passes that user's token per call).
 */
function bearerInterceptor(source: BearerSource): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        if (metadata.get('authorization').length === 0) {
          metadata.set('authorization', `Bearer ${typeof source === 'function' ? source() : source}`);
        }
        next(metadata, listener);
      },
    });
}

/** Gives unary calls without a deadline the default one; a server stream (the audit stream) is meant to stay open. */
function defaultDeadlineInterceptor(deadlineMs: number): Interceptor {
  return (options, nextCall) => {
    const streaming = options.method_definition.requestStream || options.method_definition.responseStream;
    if (options.deadline !== undefined || streaming) return new InterceptingCall(nextCall(options));
    return new InterceptingCall(nextCall({ ...options, deadline: Date.now() + deadlineMs }));
  };
}

/**
 * Typed clients for Tessera's four services, for backends:
 *
 * ```ts
 * const tessera = createTesseraClient({ address: '127.0.0.1:50051', apiKey: process.env.TESSERA_API_KEY });
 * tessera.identity.getUser({ userId }, (err, res) => ...);
 * ```
 *
 * Every call carries the bearer credential and a default deadline; the
 * idempotent reads are retried on UNAVAILABLE through grpc's service-config
 * retry policy. Decode failures with `errorDetails(err)`.
 */
export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  if (options.apiKey !== undefined && options.accessToken !== undefined) {
    throw new Error('createTesseraClient: give either apiKey or accessToken, not both');
  }
  const bearer = options.apiKey ?? options.accessToken;
  const interceptors = [defaultDeadlineInterceptor(options.deadlineMs ?? DEFAULT_DEADLINE_MS)];
  if (bearer !== undefined) interceptors.push(bearerInterceptor(bearer));
  const channelOptions: ChannelOptions = { ...options.channelOptions };
  if (options.retry !== false) {
    channelOptions['grpc.service_config'] = readRetryServiceConfig(options.retry ?? DEFAULT_RETRY);
  } else {
    channelOptions['grpc.enable_retries'] = 0;
  }
  const channelCredentials = options.credentials ?? grpcCredentials.createInsecure();
  const clientOptions = { ...channelOptions, interceptors };
  const auth = new AuthServiceClient(options.address, channelCredentials, clientOptions);
  const profile = new ProfileServiceClient(options.address, channelCredentials, clientOptions);
  const identity = new IdentityServiceClient(options.address, channelCredentials, clientOptions);
  const compliance = new ComplianceServiceClient(options.address, channelCredentials, clientOptions);
  return {
    auth,
    profile,
    identity,
    compliance,
    close: () => [auth, profile, identity, compliance].forEach((client) => client.close()),
  };
}

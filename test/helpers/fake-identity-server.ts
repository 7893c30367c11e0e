import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { GetUserResponse, IdentityServiceService } from '../../src/gen/tessera/v1/identity_service.js';

/** One call as the fake server saw it. */
export interface SeenCall {
  method: string;
  authorization: string | undefined;
  /** The deadline the client sent, as epoch milliseconds (Infinity when none). */
  deadline: number;
}

/**
 * What a handler does with call number `attempt` (1-based) of its method and
 * its request: answer, fail with a code, or never answer.
 */
export type FakeBehaviour = (attempt: number, request: { userId?: string }) => { response: object } | { fail: status } | 'hang';

/**
 * A bare grpc-js server offering IdentityService's GetUser and UpdateUser
 * with scripted behaviour, so client-side behaviour (metadata, deadlines,
 * retries) can be observed without Tessera in between.
 */
export class FakeIdentityServer {
  readonly calls: SeenCall[] = [];
  private readonly server = new Server();
  private readonly attempts = new Map<string, number>();
  address = '';

  constructor(behaviours: Record<'getUser' | 'updateUser', FakeBehaviour>) {
    const handler =
      (method: 'getUser' | 'updateUser') => (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<object>) => {
        const attempt = (this.attempts.get(method) ?? 0) + 1;
        this.attempts.set(method, attempt);
        const deadline = call.getDeadline();
        this.calls.push({
          method,
          authorization: call.metadata.get('authorization')[0] as string | undefined,
          deadline: deadline instanceof Date ? deadline.getTime() : deadline,
        });
        const outcome = behaviours[method](attempt, call.request as { userId?: string });
        if (outcome === 'hang') return;
        if ('fail' in outcome) callback({ code: outcome.fail, details: `scripted ${status[outcome.fail]}` });
        else callback(null, outcome.response);
      };
    this.server.addService(IdentityServiceService, { getUser: handler('getUser'), updateUser: handler('updateUser') } as never);
  }

  async start(): Promise<this> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  callsOf(method: string): SeenCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

/** A GetUser answer good enough for the client to decode. */
export const OK_USER = { response: GetUserResponse.fromPartial({ user: { id: 'u-1', email: 'fake@tessera.test' } }) };

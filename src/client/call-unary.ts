import { Metadata, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
/** The last overload of a generated unary method: (request, metadata, options, callback). */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: Callback<Res>,
) => unknown;
type RequestOf<M> = M extends UnaryMethod<infer R, unknown> ? R : never;
type ResponseOf<M> = M extends UnaryMethod<never, infer S> ? S : never;

/**
 * Calls a unary method of a generated client as a promise, fully typed:
 * `const { tokens } = await callUnary(tessera.auth, 'login', { email, password })`.
 */
export function callUnary<C extends Client, K extends keyof C>(
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  metadata: Metadata = new Metadata(),
  options: Partial<CallOptions> = {},
): Promise<ResponseOf<C[K]>> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as UnaryMethod<RequestOf<C[K]>, ResponseOf<C[K]>>;
    fn.call(client, request, metadata, options, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

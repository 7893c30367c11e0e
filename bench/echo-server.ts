// The read floor: a bare grpc-js server whose one unary method returns its request.
// Run as its own process (forked by run.ts); it reports its port over IPC and stops on 'stop'.
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ECHO_SERVICE } from './echo-service.js';

const implementation: UntypedServiceImplementation = {
  echo: (call: { request: Buffer }, callback: (err: null, res: Buffer) => void) => callback(null, call.request),
};

const server = new Server();
server.addService(ECHO_SERVICE, implementation);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.send!({ port, pid: process.pid });
});
process.on('message', (msg) => {
  if (msg === 'stop') server.tryShutdown(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));

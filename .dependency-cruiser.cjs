/**
 * Tessera's layering, checked in `npm test` (npm run check:layers):
 * transport (src/rpc) -> domain (src/domain) -> storage (src/db); domain -> src/crypto.
 * Background jobs (src/jobs) and the composition root (src/server.ts, src/main.ts, src/cli) sit on top.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make load order matter and rooms impossible to read alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-knows-no-transport',
      severity: 'error',
      comment: 'The domain is plain TypeScript: no gRPC, no generated protos, no transport, no jobs.',
      from: { path: '^src/domain/' },
      to: { path: ['^src/rpc/', '^src/gen/', '^src/jobs/', '^src/server\\.ts$', '^src/main\\.ts$', '^src/cli/', 'node_modules/@grpc/'] },
    },
    {
      name: 'orm-only-in-storage',
      severity: 'error',
      comment: 'Only src/db/ speaks MikroORM; everyone else uses its named functions and entities.',
      from: { pathNot: ['^src/db/', '^mikro-orm\\.config\\.ts$'] },
      to: { path: 'node_modules/@mikro-orm/' },
    },
    {
      name: 'storage-knows-no-rules',
      severity: 'error',
      comment: 'Storage sits below the domain and the transport.',
      from: { path: '^src/db/' },
      to: { path: ['^src/domain/', '^src/rpc/', '^src/jobs/', '^src/gen/'] },
    },
    {
      name: 'crypto-is-a-leaf',
      severity: 'error',
      comment: 'Cryptographic primitives depend on nothing of ours but each other.',
      from: { path: '^src/crypto/' },
      to: { path: '^src/(domain|rpc|db|jobs|gen)/' },
    },
    {
      name: 'kernel-is-shared',
      severity: 'error',
      comment: 'The kernel serves every room; only type-only references to the dependencies it carries are allowed.',
      from: { path: '^src/domain/kernel/' },
      to: { path: '^src/domain/(auth|identity|profile|compliance)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'jobs-not-from-transport',
      severity: 'error',
      comment: 'Handlers reach background work through domain interfaces, wired by the composition root.',
      from: { path: '^src/rpc/' },
      to: { path: '^src/jobs/' },
    },
    {
      name: 'src-not-from-tests',
      severity: 'error',
      comment: 'Production code and the benchmark never import test helpers.',
      from: { path: ['^src/', '^bench/'] },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/gen/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

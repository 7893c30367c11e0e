#!/usr/bin/env node
import { runCli } from './cli/program.js';

// The `tessera` command (package.json "bin"; `node dist/main.js` in production).
runCli(process.argv.slice(2), process).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tessera: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/process.js';

/** The variables src/config.ts's schema reads (its `NAME: z....` lines). */
function configVariables(): string[] {
  const source = readFileSync(join(PROJECT_ROOT, 'src', 'config.ts'), 'utf8');
  return [...source.matchAll(/^\s+([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]);
}

/** The variables named in Markdown table rows (`| \`A\` / \`B\` | ... |`; an older name may be in the meaning). */
function documentedVariables(file: string): Set<string> {
  const rows = readFileSync(join(PROJECT_ROOT, file), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| '));
  return new Set(rows.flatMap((row) => [...row.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])));
}

describe('the environment table (README) and the deployment guide', () => {
  it('finds the variables of src/config.ts', () => {
    expect(configVariables()).to.include.members(['DATABASE_URL', 'TESSERA_PEPPER', 'GRPC_PORT']);
  });

  it('README.md documents every variable src/config.ts reads', () => {
    const documented = documentedVariables('README.md');
    expect(configVariables().filter((name) => !documented.has(name))).to.deep.equal([]);
  });

  it('docs/deploy.md points at that one table instead of keeping a copy', () => {
    const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'deploy.md'), 'utf8');
    expect(guide).to.include('../README.md#configuration');
    const settingsTable = guide.slice(guide.indexOf('| setting |'), guide.indexOf('## Several instances'));
    const named = [...settingsTable.matchAll(/`([A-Z][A-Z0-9_]+)(?:=[a-z]+)?`/g)].map((m) => m[1]);
    expect(named.filter((name) => !configVariables().includes(name))).to.deep.equal([]);
  });
});

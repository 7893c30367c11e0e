// `npm run bench:profile-top -- FILE.cpuprofile`: where a V8 CPU profile spent its self time,
// as the top functions (with their file) and the top files, packages folded together.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A file path shortened to the project file or `pkg:<name>` for dependencies. */
function shortFile(url: string): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return `pkg:${pkg[1]}`;
  if (path.startsWith('node:')) return path;
  const project = /\/(src|bench|test)\/.*$/.exec(path);
  return project ? project[0].slice(1) : path;
}

/** Self time in ms per key, from the sample stream (a sample's delta belongs to the node it hit). */
function selfTimes(profile: CpuProfile, keyOf: (node: ProfileNode) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = keyOf(byId.get(id)!);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}

/** Rows by descending self time, in ms and as a share of the busy (non-idle) time. */
function printTop(title: string, totals: Map<string, number>, busy: number, top: number): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...totals]
    .filter(([key]) => key !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [key, ms] of rows) {
    process.stdout.write(`${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${key}\n`);
  }
}

const program = new Command('cpu-profile-top')
  .description('Top self-time functions and files of .cpuprofile files')
  .argument('<files...>', '.cpuprofile files written by node --cpu-prof')
  .option('--top <n>', 'how many rows', Number, 15)
  .parse();

const { top } = program.opts<{ top: number }>();
for (const file of program.args) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const all = profile.timeDeltas.reduce((s, d) => s + d, 0) / 1000;
  const idle = selfTimes(profile, (n) => n.callFrame.functionName).get('(idle)') ?? 0;
  const busy = all - idle;
  process.stdout.write(
    `\n${file}: ${(all / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (shares below are of busy time)\n`,
  );
  const fn = (n: ProfileNode) => {
    const name = n.callFrame.functionName || '(anonymous)';
    return n.callFrame.url ? `${name}  ${shortFile(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : name;
  };
  printTop(`top ${top} functions by self time`, selfTimes(profile, fn), busy, top);
  printTop(
    `top ${top} files by self time`,
    selfTimes(profile, (n) => (n.callFrame.functionName === '(idle)' ? '(idle)' : shortFile(n.callFrame.url))),
    busy,
    top,
  );
}

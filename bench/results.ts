// The shape of bench/results/latest.json, and how it prints as a table.
import type { LoadResult, SubscribeResult } from './jobs.js';

/** One path measured against its floor. */
export interface PathResult {
  name: string;
  concurrency: number;
  tessera: LoadResult;
  floorName: string;
  floor: LoadResult;
  /** Tessera's rate over the floor's. */
  ratio: number;
  /** The ratio issue 11 asks for, where it names one. */
  target: number | null;
}

export interface BenchResults {
  startedAt: string;
  quick: boolean;
  phaseSeconds: number;
  rounds: number;
  /** Variables given with --server-env. */
  serverEnv: Record<string, string>;
  /** How the server was started: `dist` (scripts/start-production.sh, what production runs) or `tsx` (the sources). */
  serverForm?: 'dist' | 'tsx';
  machine: { cores: number; node: string; uvThreadpoolSize: string };
  argon2: { memoryKib: number; timeCost: number; parallelism: number; maxConcurrent: number };
  paths: PathResult[];
  /** Absent when --only skipped it. */
  audit?: { writers: number; commitsPerSecond: number; subscribers: SubscribeResult };
  rss: { afterMb: number; peakMb: number };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** A fixed-width table of every path, then the audit stream and memory lines. */
export function formatTable(r: BenchResults): string {
  const head = ['path', 'in flight', 'rate/s', 'p50 ms', 'p99 ms', 'errors', 'floor', 'floor/s', 'ratio', 'target'];
  const rows = r.paths.map((p) => [
    p.name,
    String(p.concurrency),
    fmt(p.tessera.rate),
    fmt(p.tessera.p50, 1),
    fmt(p.tessera.p99, 1),
    String(p.tessera.errors),
    p.floorName,
    fmt(p.floor.rate),
    `${fmt(p.ratio, 2)}x`,
    p.target === null ? '-' : `${fmt(p.target, 2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const a = r.audit;
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    ...(a ? [auditLine(a)] : []),
    `server RSS: ${fmt(r.rss.afterMb)} MiB after the run, peak ${fmt(r.rss.peakMb)} MiB (target < 200)` +
      (r.serverForm ? `; server started ${SERVER_FORMS[r.serverForm]}` : ''),
  ].join('\n');
}

function auditLine(a: NonNullable<BenchResults['audit']>): string {
  return (
    `audit stream: ${fmt(a.commitsPerSecond)} audited commits/s from ${a.writers} writers; ` +
    `${fmt(a.subscribers.rate)} events/s delivered to ${a.subscribers.subscribers} subscribers, ` +
    `occurred-to-delivery p50 ${fmt(a.subscribers.p50, 1)} ms p99 ${fmt(a.subscribers.p99, 1)} ms, ` +
    `in order ${a.subscribers.inOrder}, complete ${a.subscribers.complete}`
  );
}

const SERVER_FORMS = {
  dist: 'as production does (dist/, scripts/start-production.sh)',
  tsx: 'from the sources under tsx',
};

/** The same paths as a Markdown table, for the README. */
export function formatMarkdownTable(r: BenchResults): string {
  const rows = r.paths.map(
    (p) =>
      `| ${p.name} | ${p.concurrency} | ${fmt(p.tessera.rate)}/s | ${fmt(p.tessera.p50, 1)} / ${fmt(p.tessera.p99, 1)} ms | ` +
      `${p.floorName} ${fmt(p.floor.rate)}/s | ${fmt(p.ratio, 2)}x | ${p.target === null ? '-' : `>= ${fmt(p.target, 2)}x`} |`,
  );
  return [
    '| path | in flight | Tessera | p50 / p99 | floor, same run | ratio | target |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

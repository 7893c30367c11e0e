// A hand-written SVG of a bench run: ratio to floor per path (with its target), and p50/p99 latency.
import type { BenchResults } from './results.js';

const ROW = 28;
const LABEL = 190;
const PANEL = 300;
const GAP = 60;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Renders the chart; bars scale to the largest value of their panel. */
export function renderChart(r: BenchResults): string {
  const top = 50;
  const height = top + r.paths.length * ROW + 40;
  const width = LABEL + PANEL + GAP + PANEL + 110;
  const maxRatio = Math.max(1, ...r.paths.map((p) => Math.max(p.ratio, p.target ?? 0)));
  const maxLatency = Math.max(1, ...r.paths.map((p) => (Number.isFinite(p.tessera.p99) ? p.tessera.p99 : 0)));
  const latencyX = LABEL + PANEL + GAP;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LABEL}" y="20" font-weight="bold">ratio to floor (tick: target; green met, red not, grey no target)</text>`,
    `<text x="${latencyX}" y="20" font-weight="bold">latency, ms (dark p50, light p99)</text>`,
    `<text x="10" y="${height - 12}" fill="#555">${esc(`${r.startedAt} · ${r.machine.cores} cores · ${r.quick ? 'quick' : 'full'} run, ${r.phaseSeconds} s phases`)}</text>`,
  ];
  r.paths.forEach((p, i) => {
    const y = top + i * ROW;
    const ratioW = (Math.max(0, p.ratio) / maxRatio) * PANEL;
    const colour = p.target === null ? '#8c8c8c' : p.ratio >= p.target ? '#3a7d44' : '#c0504d';
    const p50W = (p.tessera.p50 / maxLatency) * PANEL || 0;
    const p99W = (p.tessera.p99 / maxLatency) * PANEL || 0;
    parts.push(
      `<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${esc(p.name)}</text>`,
      `<rect x="${LABEL}" y="${y + 3}" width="${ratioW.toFixed(1)}" height="16" fill="${colour}"/>`,
      `<text x="${(LABEL + ratioW + 4).toFixed(1)}" y="${y + 15}">${p.ratio.toFixed(2)}x</text>`,
      p.target === null ? '' : targetTick(LABEL + (p.target / maxRatio) * PANEL, y),
      `<rect x="${latencyX}" y="${y + 3}" width="${p99W.toFixed(1)}" height="16" fill="#9ecae1"/>`,
      `<rect x="${latencyX}" y="${y + 3}" width="${p50W.toFixed(1)}" height="16" fill="#3182bd"/>`,
      `<text x="${(latencyX + p99W + 4).toFixed(1)}" y="${y + 15}">${p.tessera.p50.toFixed(1)} / ${p.tessera.p99.toFixed(1)}</text>`,
    );
  });
  const oneX = LABEL + PANEL / maxRatio;
  parts.push(
    `<line x1="${oneX}" x2="${oneX}" y1="${top - 6}" y2="${top + r.paths.length * ROW}" stroke="#888" stroke-dasharray="3,3"/>`,
    `<text x="${oneX}" y="${top - 10}" text-anchor="middle" fill="#555">1x</text>`,
    '</svg>',
  );
  return parts.join('\n') + '\n';
}

function targetTick(x: number, y: number): string {
  return `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y}" y2="${y + 22}" stroke="black" stroke-width="2"/>`;
}

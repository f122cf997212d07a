/**
 * The lab's report: a text table for people, the issue's JSON for machines, and one
 * self-contained HTML page with a timeline per scenario run (issue #14).
 */
import { table } from '../table.js';
import type { LabReport } from './lab.js';
import type { ScenarioResult } from './scenarios.js';


/**
 * The outage bound of a run as shown: `N ms`, or `-` where the scenario bounds something else
 * than the outage (its timeline has no bound line; the notes name what it bounds), so that an
 * outage above a figure that was never its bound does not read as a pass against it.
 */
export function outageBoundText(s: ScenarioResult): string {
  return s.timeline.boundAtMs === undefined ? '-' : `${s.boundMs} ms`;
}

/** Table of the scenarios, one row each, with the notes of failed rows below it. */
export function reportTable(report: LabReport): string {
  const rows = [['SCENARIO', 'RESULT', 'OUTAGE', 'BOUND', 'FAILED/TOTAL', 'VIP BEFORE -> AFTER', 'SETTLED', 'DUAL']];
  for (const s of report.scenarios) {
    const byVip = Object.values(s.outageByVipMs);
    rows.push([s.name, s.passed ? 'ok' : 'FAILED', byVip.length > 1 ? `${byVip.join(' / ')} ms` : `${s.outageMs} ms`, outageBoundText(s), `${s.failed}/${s.total}`,
      `${s.holderBefore ?? '-'} -> ${s.holderAfter ?? '-'}`, `${s.settleMs} ms`, dualCell(s)]);
  }
  const notes = report.scenarios.filter((s) => s.notes.length).map((s) => `  ${s.name}: ${s.notes.join('; ')}`);
  const head = `lab of ${report.profile}: VRRP v${report.vrrpVersion}, advert_int ${report.advertInterval} s, ${(report.wallMs / 1000).toFixed(1)} s wall time`;
  return [head, table(rows), ...(notes.length ? ['notes:', ...notes] : []), LEGEND].join('\n');
}

/**
 * The DUAL column: `no`, or the longest overlap and what it was: a handover (within the bound),
 * an expected split brain (provoked by the scenario, healed in time) or a split brain.
 */
function dualCell(s: ScenarioResult): string {
  const worst = [...s.overlaps].sort((a, b) => b.ms - a.ms)[0];
  if (!worst) return 'no';
  if (!worst.splitBrain) return `handover ${worst.ms} ms`;
  return `${worst.expected ? 'expected split brain' : 'SPLIT BRAIN'} ${worst.ms} ms`;
}

/**
 * Per scenario over every run (`--repeat`): runs, passed, failed, outage p50/p95/max,
 * failed requests (all runs, most in one run), longest handover overlap, runs with a split brain.
 */
export function summaryTable(report: LabReport): string {
  const rows = [['SCENARIO', 'RUNS', 'PASSED', 'FAILED', 'OUTAGE P50', 'P95', 'MAX', 'FAILED REQ (MAX/RUN)', 'LONGEST HANDOVER', 'SPLIT BRAIN RUNS']];
  for (const s of report.summary) {
    rows.push([s.name, String(s.runs), String(s.passed), String(s.failed), `${s.outageMs.p50} ms`, `${s.outageMs.p95} ms`, `${s.outageMs.max} ms`,
      `${s.failedRequests.total} (${s.failedRequests.max})`, `${s.longestHandoverMs} ms`, String(s.splitBrainRuns)]);
  }
  // Dual stack: the outage of each VIP (family) too.
  const perVip = report.summary.filter((s) => Object.keys(s.outageByVipMs).length > 1);
  const vipRows = [['SCENARIO', 'VIP', 'OUTAGE P50', 'P95', 'MAX']];
  for (const s of perVip) for (const [vip, o] of Object.entries(s.outageByVipMs)) vipRows.push([s.name, vip, `${o.p50} ms`, `${o.p95} ms`, `${o.max} ms`]);
  return [`${report.runs} runs, handover bound ${report.handoverBoundMs} ms:`, table(rows), ...(perVip.length ? ['outage per VIP:', table(vipRows)] : [])].join('\n');
}

/** What each column of {@link reportTable} means, printed under it. */
export const LEGEND = [
  'OUTAGE: longest run of failed requests to a VIP (first failure to the next success; one figure per VIP with VIPs of both families); BOUND: the longest outage the profile\'s timing allows (k8s-ha check prints the same failover times); - where the scenario bounds something else (its notes say what)',
  'FAILED/TOTAL: client requests through the VIP in the scenario\'s window; in converge most fail by design: the VIP and the apiservers are still coming up',
  'VIP BEFORE -> AFTER: the VIP holder (- for none); SETTLED: ms from the action to the last VIP change; DUAL: the longest time two nodes held a VIP at once, and whether it was a handover (within the bound the README derives) or a split brain',
].join('\n');

/** The issue's JSON document, pretty-printed with a trailing newline. */
export function reportJson(report: LabReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** HTML text with &, <, >, " escaped. */
function esc(v: string | number): string {
  return String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const COLORS = ['#2b6cb0', '#805ad5', '#2f855a', '#b7791f'];

/**
 * One scenario run as an inline SVG timeline (x: ms after the action): a lane of the client's
 * requests (green ok, red failed), one lane per node and VIP with the times it held the VIP
 * (overlaps hatched red), the action at 0, other marks (a restore), the outage bound and the
 * handover bound after each overlap's start.
 */
export function timelineSvg(s: ScenarioResult, nodes: string[], vips: string[]): string {
  const { fromMs, toMs, requests, holdings, marks } = s.timeline;
  const W = 960, left = 150, right = 20, lane = 18, top = 22;
  const lanes = nodes.flatMap((n) => vips.map((v) => ({ node: n, vip: v })));
  const H = top + 26 + lanes.length * (lane + 4) + 30;
  const x = (ms: number) => left + ((Math.min(Math.max(ms, fromMs), toMs) - fromMs) / Math.max(1, toMs - fromMs)) * (W - left - right);
  const out: string[] = [];
  out.push(`<svg class="timeline" data-scenario="${esc(s.name)}" data-run="${s.run}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${s.name} run ${s.run} timeline`)}">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  // Requests lane.
  const ry = top;
  out.push(`<text x="4" y="${ry + 13}" font-size="12">requests</text>`);
  for (const [t, ok, vi] of requests) {
    out.push(`<rect class="req ${ok ? 'ok' : 'fail'}" x="${x(t).toFixed(1)}" y="${ry + (vi % 2) * 10}" width="2" height="${ok ? 10 : 16}" fill="${ok ? '#38a169' : '#e53e3e'}"/>`);
  }
  // Holder lanes.
  lanes.forEach((l, i) => {
    const y = top + 26 + i * (lane + 4);
    out.push(`<text x="4" y="${y + 13}" font-size="12">${esc(vips.length > 1 ? `${l.node} ${l.vip}` : l.node)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${W - left - right}" height="${lane}" fill="#f4f4f4"/>`);
    for (const h of holdings.filter((h) => h.node === l.node && h.vip === l.vip)) {
      const w = Math.max(1, x(h.toMs) - x(h.fromMs));
      out.push(`<rect class="hold" data-node="${esc(h.node)}" x="${x(h.fromMs).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${lane}" fill="${COLORS[vips.indexOf(l.vip) % COLORS.length]}"/>`);
    }
  });
  const bottom = top + 26 + lanes.length * (lane + 4);
  for (const o of s.overlaps) {
    const x0 = x(o.atMs), x1 = Math.max(x0 + 1, x(o.atMs + o.ms));
    out.push(`<rect class="overlap" x="${x0.toFixed(1)}" y="${top + 24}" width="${(x1 - x0).toFixed(1)}" height="${bottom - top - 24}" fill="${o.splitBrain && !o.expected ? '#e53e3e' : '#dd6b20'}" fill-opacity="0.35"/>`);
    out.push(`<text x="${x1.toFixed(1)}" y="${bottom + 12}" font-size="11" fill="#c05621">${esc(`${o.splitBrain ? (o.expected ? 'expected split brain' : 'SPLIT BRAIN') : 'handover'} ${o.ms} ms`)}</text>`);
  }
  const vline = (ms: number, label: string, color: string, dash = '') => {
    out.push(`<line x1="${x(ms).toFixed(1)}" x2="${x(ms).toFixed(1)}" y1="${top - 4}" y2="${bottom}" stroke="${color}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(`<text x="${(x(ms) + 3).toFixed(1)}" y="${top - 8}" font-size="11" fill="${color}">${esc(label)}</text>`);
  };
  vline(0, 'action', '#1a202c');
  for (const m of marks) vline(m.atMs, m.label, '#2c5282');
  if (s.timeline.boundAtMs !== undefined && s.timeline.boundAtMs <= toMs) vline(s.timeline.boundAtMs, `bound ${s.boundMs} ms`, '#c53030', '4 3');
  // Axis: a tick per second.
  out.push(`<line x1="${left}" x2="${W - right}" y1="${bottom + 18}" y2="${bottom + 18}" stroke="#718096"/>`);
  for (let t = Math.ceil(fromMs / 1000) * 1000; t <= toMs; t += 1000) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${bottom + 15}" y2="${bottom + 21}" stroke="#718096"/><text x="${(x(t) - 8).toFixed(1)}" y="${bottom + 30}" font-size="10" fill="#4a5568">${t / 1000} s</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/**
 * The whole report as one self-contained HTML page: the summary table, the runs table, and a
 * {@link timelineSvg} per scenario run. No scripts, no external fonts, styles or fetches.
 */
export function reportHtml(report: LabReport, nodes: string[], vips: string[]): string {
  const cell = (v: string | number) => `<td>${esc(v)}</td>`;
  const summary = report.summary.map((s) => `<tr>${[s.name, s.runs, s.passed, s.failed, s.outageMs.p50, s.outageMs.p95, s.outageMs.max,
    s.failedRequests.total, s.longestHandoverMs, s.splitBrainRuns].map(cell).join('')}</tr>`).join('\n');
  const runs = report.scenarios.map((s) => `<section class="scenario" id="${esc(`${s.name}-${s.run}`)}">
<h3>${esc(s.name)} — run ${s.run}: <span class="${s.passed ? 'ok' : 'failed'}">${s.passed ? 'ok' : 'FAILED'}</span></h3>
<p>outage ${s.outageMs} ms (bound ${outageBoundText(s)}), ${s.failed}/${s.total} requests failed, VIP ${esc(s.holderBefore ?? '-')} → ${esc(s.holderAfter ?? '-')}, settled after ${s.settleMs} ms${s.notes.length ? `<br>${s.notes.map(esc).join('<br>')}` : ''}</p>
${timelineSvg(s, nodes, vips)}
</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`k8s-ha lab: ${report.profile}`)}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #1a202c; }
table { border-collapse: collapse; } td, th { border: 1px solid #cbd5e0; padding: 2px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.ok { color: #2f855a; } .failed { color: #c53030; font-weight: bold; }
svg.timeline { display: block; border: 1px solid #e2e8f0; }
</style></head><body>
<h1>k8s-ha lab</h1>
<p>${esc(report.profile)}: VRRP v${report.vrrpVersion}, advert_int ${report.advertInterval} s, ${report.runs} run(s), handover bound ${report.handoverBoundMs} ms, ${(report.wallMs / 1000).toFixed(1)} s wall time.
Timelines: x is ms after the action; the top lane shows each request (green ok, red failed), the lanes below when each node held the VIP; orange = a handover overlap, red = a split brain.</p>
<h2>Summary</h2>
<table id="summary"><tr><th>scenario</th><th>runs</th><th>passed</th><th>failed</th><th>outage p50 ms</th><th>p95 ms</th><th>max ms</th><th>failed requests</th><th>longest handover ms</th><th>split brain runs</th></tr>
${summary}
</table>
<h2>Runs</h2>
${runs}
</body></html>
`;
}

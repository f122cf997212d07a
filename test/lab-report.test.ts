/**
 * The lab's judgement and report without root (issue #14): how VIP overlaps are measured and
 * classified (the handover bound from the profile), the statistics of repeated runs, and the
 * HTML report as Debian's headless Chromium renders it.
 */
import test from 'ava';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadProfile } from '../src/profile/load.js';
import { HolderWatch } from '../src/lab/probe.js';
import { SCHEDULING_ALLOWANCE_MS, handoverBoundMs, haproxyMarkDownMs, haproxyMarkUpMs } from '../src/lab/bounds.js';
import { haproxyCfg } from '../src/components/haproxy.js';
import { percentile, summarize } from '../src/lab/stats.js';
import { reportHtml, reportTable, summaryTable } from '../src/lab/report.js';
import { SCENARIOS, outageByVipMs, type ScenarioResult } from '../src/lab/scenarios.js';
import type { LabReport } from '../src/lab/lab.js';
import { checkCharts, renderInChromium } from './helpers/chromium.js';
import { testDir } from './helpers/tools.js';

const FIXTURES = new URL('../../fixtures/lab/', import.meta.url).pathname;
const VIP = '198.18.0.100';

/** A watch fed with `events` ([t, node, held]) of one VIP, no monitors started. */
function watchOf(events: [number, string, boolean][]): HolderWatch {
  const w = new HolderWatch([], [VIP]);
  w.events.push(...events.map(([t, node, held]) => ({ t, node, vip: VIP, held })));
  return w;
}

test('HAProxy mark-down and mark-up times come from the haproxy.cfg that runs (inter, fastinter, downinter, rise, fall, timeout check)', (t) => {
  const { plan } = loadProfile(join(FIXTURES, 'lab.toml'));
  const cfg = haproxyCfg(plan).content;
  t.regex(cfg, /inter 1000ms fastinter 500ms downinter 1000ms rise 2 fall 2/);
  const check = Number(/timeout check (\d+)ms/.exec(cfg)?.[1] ?? 0);
  t.is(haproxyMarkDownMs(cfg, plan), 2 * 1000 + check);
  // A DOWN server waits up to downinter for its first good check, then rise - 1 more fastinter apart.
  t.is(haproxyMarkUpMs(cfg, plan), 1000 + 500 + 2 * check);
  // HAProxy's own defaults where the line says nothing: inter 2 s, rise 2, fall 3.
  t.is(haproxyMarkUpMs('default-server check', { ...plan, haproxy: { ...plan.haproxy, checkIntervalMs: 2000 } }), 4000);
});

test('outage per VIP: the longest run of failures to each VIP, IPv6 targets in brackets mapped to their VIP, an open run ending at the end', (t) => {
  const rec = (t: number, target: string, ok: boolean) => ({ t, target, ok, by: ok ? 'cp-1' : null, err: ok ? null : 'timeout' });
  const records = [
    rec(0, '198.18.0.100:7443', true), rec(10, '198.18.0.100:7443', false), rec(30, '198.18.0.100:7443', false), rec(50, '198.18.0.100:7443', true),
    rec(60, '198.18.0.100:7443', false), rec(70, '198.18.0.100:7443', true),
    rec(0, '[2001:2::100]:7443', true), rec(80, '[2001:2::100]:7443', false),
  ];
  t.deepEqual(outageByVipMs(records, ['198.18.0.100', '2001:2::100', '198.18.0.101'], 200), { '198.18.0.100': 40, '2001:2::100': 120, '198.18.0.101': 0 });
});

test('overlaps: each stretch of two holders with its start, length and nodes; holdings per node', (t) => {
  const w = watchOf([[0, 'a', true], [100, 'b', true], [130, 'a', false], [1000, 'a', true], [3500, 'b', false], [4000, 'c', true]]);
  t.deepEqual(w.overlaps(VIP, 0, 5000), [
    { vip: VIP, from: 100, to: 130, ms: 30, nodes: ['a', 'b'], open: false },
    { vip: VIP, from: 1000, to: 3500, ms: 2500, nodes: ['a', 'b'], open: false },
    { vip: VIP, from: 4000, to: 5000, ms: 1000, nodes: ['a', 'c'], open: true },
  ]);
  t.is(w.longestOverlapMs(VIP, 0, 5000), 2500);
  // Clipped to the window; one that began before it counts from the window's start.
  t.deepEqual(w.overlaps(VIP, 2000, 3000).map((o) => [o.from, o.to, o.ms]), [[2000, 3000, 1000]]);
  t.deepEqual(w.holdings(VIP, 0, 5000).map((h) => [h.node, h.from, h.to]), [['a', 0, 130], ['b', 100, 3500], ['a', 1000, 5000], ['c', 4000, 5000]]);
});

test('handover bound: advert_int + the largest skew + the scheduling allowance, from the profile', (t) => {
  const slow = loadProfile(`${FIXTURES}lab.toml`).plan;
  const fast = loadProfile(`${FIXTURES}lab-fast.toml`).plan;
  const lowest = (p: typeof slow) => Math.min(...p.nodes.filter((n) => n.vrrp).map((n) => n.vrrp!.priority));
  // VRRPv2: Skew_Time = (256 - priority) / 256 s; VRRPv3: x advert_int (RFC 3768, 5798 6.1).
  t.is(handoverBoundMs(slow), 1000 + ((256 - lowest(slow)) * 1000) / 256 + SCHEDULING_ALLOWANCE_MS);
  t.is(handoverBoundMs(fast), 200 + ((256 - lowest(fast)) * 200) / 256 + SCHEDULING_ALLOWANCE_MS);
  // A 3 s split brain is far beyond either; a handover of a few tens of ms far below.
  t.true(handoverBoundMs(slow) < 3000 && handoverBoundMs(fast) < 1000);
  t.true(handoverBoundMs(fast) > 20 + SCHEDULING_ALLOWANCE_MS);
});

/** A passing result of `name`, run `run`, with `outageMs` and one handover of `overlapMs`. */
function result(name: ScenarioResult['name'], run: number, outageMs: number, overlapMs = 0, passed = true): ScenarioResult {
  const requests: [number, 0 | 1, number][] = [];
  for (let ms = -500; ms < 3000; ms += 20) requests.push([ms, ms >= 0 && ms < outageMs ? 0 : 1, 0]);
  return {
    name, passed, outageMs, outageByVipMs: { [VIP]: outageMs }, failed: requests.filter((r) => !r[1]).length, total: requests.length, holderBefore: 'cp-1', holderAfter: 'cp-2',
    dualHolder: false, boundMs: 1500, run, settleMs: outageMs, lateFailures: 0, overlapMs, handoverBoundMs: 642, expectSplitBrain: false,
    overlaps: overlapMs ? [{ vip: VIP, nodes: ['cp-1', 'cp-2'], atMs: outageMs, ms: overlapMs, splitBrain: false, expected: false }] : [],
    holderChanges: [],
    timeline: {
      fromMs: -500, toMs: 3000, requests,
      holdings: [{ node: 'cp-1', vip: VIP, fromMs: -500, toMs: outageMs + overlapMs }, { node: 'cp-2', vip: VIP, fromMs: outageMs, toMs: 3000 }],
      marks: [], boundAtMs: 1500,
    },
    notes: passed ? [] : ['outage 2000 ms > bound 1500 ms'],
  };
}

test('summary: per scenario runs, passed/failed, outage p50/p95/max (nearest rank), failed requests, longest handover', (t) => {
  t.is(percentile([], 50), 0);
  t.is(percentile([5, 1, 4, 2, 3], 50), 3);
  t.is(percentile([...Array(20).keys()].map((i) => i + 1), 95), 19);
  t.is(percentile([...Array(20).keys()].map((i) => i + 1), 100), 20);
  const rs = [result('converge', 1, 900), result('master-stop', 1, 100, 12), result('converge', 2, 700), result('master-stop', 2, 2000, 30, false)];
  const [converge, stop] = summarize(rs);
  t.like(converge, { name: 'converge', runs: 2, passed: 2, failed: 0, outageMs: { p50: 700, p95: 900, max: 900 }, longestHandoverMs: 0, splitBrainRuns: 0 });
  t.like(stop, { name: 'master-stop', runs: 2, passed: 1, failed: 1, outageMs: { p50: 100, p95: 2000, max: 2000 }, longestHandoverMs: 30 });
  t.is(stop!.failedRequests.total, rs[1]!.failed + rs[3]!.failed);
});

test('HTML report: self-contained, and Chromium draws every scenario run\'s timeline', (t) => {
  const dir = testDir(t);
  const scenarios = [1, 2].flatMap((run) => SCENARIOS.map((name, i) => result(name, run, 100 * (i + 1), i % 2 ? 25 : 0)));
  const report: LabReport = { profile: 'fixtures/lab/lab.toml', advertInterval: 1, vrrpVersion: 2, handoverBoundMs: 1742, runs: 2, scenarios, summary: summarize(scenarios), wallMs: 1000 };
  const html = reportHtml(report, ['cp-1', 'cp-2', 'cp-3'], [VIP]);
  // Nothing fetched: no script, no external reference of any kind.
  t.notRegex(html, /<script|<link|@import|url\(|src=|href=/i);
  t.regex(summaryTable(report), /master-stop\s+2\s+2\s+0\s+400 ms/);
  const file = join(dir, 'lab.html');
  writeFileSync(file, html);
  const charts = renderInChromium(t, file, dir);
  checkCharts(t, charts, [1, 2].flatMap((run) => SCENARIOS.map((s) => `${s}/${run}`)));
});

test('the lab table defines every column, prints no null, and says why converge fails requests', (t) => {
  const converge = { ...result('converge', 1, 0), failed: 184, total: 303, holderBefore: null, holderAfter: 'cp-1', settleMs: 0 };
  const crash = result('master-crash', 1, 3400);
  const scenarios = [converge, crash];
  const text = reportTable({ profile: 'fixtures/lab/lab.toml', advertInterval: 1, vrrpVersion: 2, handoverBoundMs: 642, runs: 1, scenarios, summary: summarize(scenarios), wallMs: 1000 });
  t.notRegex(text, /null/);
  t.regex(text, /converge\s+ok\s+0 ms\s+1500 ms\s+184\/303\s+- -> cp-1/);
  for (const column of ['OUTAGE', 'BOUND', 'FAILED/TOTAL', 'VIP BEFORE -> AFTER', 'SETTLED', 'DUAL']) t.regex(text, new RegExp(`^${column.replace(/[/>-]/g, '\\$&')}: |; ${column.replace(/[/>-]/g, '\\$&')}: `, 'm'), column);
  t.regex(text, /in converge most fail by design/);
});

/**
 * The lab's failure scenarios (issue #3) and how each is measured. Every scenario but
 * `rejoin` starts from a healthy cluster (every process up, the VIP on the expected MASTER,
 * every apiserver answering through the VIP), acts on the VIP holder, waits until the VIP has
 * not changed for 2 s (it settled at its last change), then reads the client's requests and
 * the holder events of its window.
 */
import type { ProbeRecord } from './probe.js';
import type { LabCluster, LabNode } from './cluster.js';
import { nowMs, sleep } from './proc.js';
import { LAB_SCENARIOS, type LabScenarioName } from '../model.js';
import { DUAL_HOLDER_TOLERANCE_MS, SETTLE_GRACE_MS, masterDownMs, outageBoundsMs } from './bounds.js';

/** The VIP counts as settled once it has not changed for this long, ms. */
const STABLE_MS = 2000;
/** How long after the settle deadline (or the expected state) to wait for the VIP to stay put, ms. */
const STILL_MOVING_MS = 15_000;

/** Names in the order they run (the list lives in model.ts). */
export const SCENARIOS = LAB_SCENARIOS;
export type ScenarioName = LabScenarioName;

/** One row of the report; the first nine fields are the JSON contract. */
export interface ScenarioResult {
  name: ScenarioName;
  passed: boolean;
  /** Longest run of failed requests to one VIP, ms (first failed start to next success start). */
  outageMs: number;
  failed: number;
  total: number;
  holderBefore: string | null;
  holderAfter: string | null;
  /** Two nodes held a VIP at once for longer than one 20 ms sampling period. */
  dualHolder: boolean;
  boundMs: number;
  /** ms from the action to the last VIP change (0 when the VIP did not move). */
  settleMs: number;
  /** Failed requests started later than 1 s after the VIP settled. */
  lateFailures: number;
  /** Longest dual holding seen, ms (a preemption overlaps for a moment by design). */
  overlapMs: number;
  /** Every VIP change in the window: ms after the action, node, VIP, held or released. */
  holderChanges: { atMs: number; node: string; vip: string; held: boolean }[];
  /** Why it failed, or what is worth knowing. */
  notes: string[];
}

/** Timing the runner needs beyond the plan. */
export interface ScenarioOptions {
  /** Worst-case ms until HAProxy marks a dead apiserver down (fall x inter, from haproxy.cfg). */
  markDownMs: number;
}

/** Longest run of consecutive failures per target, in ms; a run open at the end ends at `end`. */
export function longestOutageMs(records: ProbeRecord[], end: number): number {
  let longest = 0;
  for (const target of new Set(records.map((r) => r.target))) {
    let start: number | null = null;
    for (const r of records.filter((x) => x.target === target)) {
      if (!r.ok && start === null) start = r.t;
      if (r.ok && start !== null) { longest = Math.max(longest, r.t - start); start = null; }
    }
    if (start !== null) longest = Math.max(longest, end - start);
  }
  return Math.round(longest);
}

/** Waits until the VIP is on the expected MASTER alone and every apiserver answers through it. */
async function healthy(c: LabCluster): Promise<void> {
  await c.heal();
  const expected = c.expectedMaster().plan.name;
  const names = c.nodes.map((n) => n.plan.name);
  const ok = await c.until(() => {
    const recent = c.probe.between(nowMs() - 1600, nowMs() - 600);
    return c.holders().join() === expected && recent.length > 20 && recent.every((r) => r.ok) &&
      names.every((n) => recent.some((r) => r.by === n));
  }, 30_000);
  if (!ok) throw new Error(`the lab cluster did not return to health within 30 s (VIP holders: ${c.holders().join(', ') || 'none'})`);
}

interface Step {
  action: () => Promise<void>;
  /** The VIP has reached its end state. */
  settled: () => boolean;
  deadlineMs: number;
  /** False when not settling is a finding to report, not a failure (default true). */
  mustSettle?: boolean;
  boundMs: number;
  /** False when boundMs limits something other than the outage (default true). */
  outageBounded?: boolean;
  /** Most VIP acquisitions allowed after the action (default 1: one clean move, or none). */
  maxMoves?: number;
  /** Extra pass conditions, each returning a note when violated. */
  checks?: (m: { records: ProbeRecord[]; tAct: number; holderAfter: string | null }) => string[];
}

/** Runs one measured step and builds its result row. */
async function measure(c: LabCluster, name: ScenarioName, step: Step): Promise<ScenarioResult> {
  const vips = c.plan.vip.addresses;
  const holderBefore = c.holders()[0] ?? null;
  const t0 = nowMs();
  await sleep(500);
  const tAct = nowMs();
  await step.action();
  const settledInTime = await c.until(step.settled, step.deadlineMs);
  // Settled = no VIP change for STABLE_MS: a VIP that moves again after first reaching its
  // end state (a flap) must count, so keep watching until it stays put (or give up).
  const lastChange = () => Math.max(tAct, ...vips.flatMap((v) => c.watch.between(v, tAct, nowMs())).map((e) => e.t));
  const giveUpAt = nowMs() + STILL_MOVING_MS;
  let settleAt = lastChange();
  for (;;) {
    await sleep(Math.max(0, settleAt + STABLE_MS - nowMs()));
    const later = lastChange();
    if (later === settleAt || nowMs() > giveUpAt) break;
    settleAt = later;
  }
  const last = lastChange();
  const stillMoving = last !== settleAt;
  settleAt = last;
  const t1 = nowMs();
  await sleep(600); // requests still in flight report within their timeout
  const records = c.probe.between(t0, t1);
  const failed = records.filter((r) => !r.ok);
  const lateFailures = failed.filter((r) => r.t > settleAt + SETTLE_GRACE_MS).length;
  const overlapMs = Math.max(...vips.map((v) => c.watch.longestOverlapMs(v, t0, t1)));
  const holderAfter = c.holders()[0] ?? null;
  const outageMs = longestOutageMs(records, t1);
  const notes: string[] = [];
  if (!settledInTime && step.mustSettle !== false) notes.push(`VIP did not reach its expected state within ${step.deadlineMs} ms`);
  if (stillMoving) notes.push(`VIP still moving ${STILL_MOVING_MS} ms after it reached its expected state (or the deadline)`);
  const moves = vips.map((v) => c.watch.between(v, tAct, t1).filter((e) => e.held));
  const flapping = moves.find((m) => m.length > (step.maxMoves ?? 1));
  if (flapping) notes.push(`VIP ${flapping[0]!.vip} was taken ${flapping.length} times (${flapping.map((e) => e.node).join(' -> ')}); at most ${step.maxMoves ?? 1} expected`);
  if (step.outageBounded !== false && outageMs > step.boundMs) notes.push(`outage ${outageMs} ms > bound ${Math.round(step.boundMs)} ms`);
  if (lateFailures) notes.push(`${lateFailures} failed requests later than ${SETTLE_GRACE_MS} ms after the VIP settled (last: ${failed.at(-1)?.err})`);
  if (overlapMs > DUAL_HOLDER_TOLERANCE_MS) notes.push(`two nodes held a VIP for ${Math.round(overlapMs)} ms`);
  notes.push(...(step.checks?.({ records, tAct, holderAfter }) ?? []));
  return {
    name, passed: notes.length === 0, outageMs, failed: failed.length, total: records.length, holderBefore, holderAfter,
    dualHolder: overlapMs > DUAL_HOLDER_TOLERANCE_MS, boundMs: Math.round(step.boundMs), settleMs: Math.round(settleAt - tAct),
    lateFailures, overlapMs: Math.round(overlapMs),
    holderChanges: vips.flatMap((v) => c.watch.between(v, t0, t1)).sort((a, b) => a.t - b.t)
      .map((e) => ({ atMs: Math.round(e.t - tAct), node: e.node, vip: e.vip, held: e.held })),
    notes,
  };
}

/** The VIP sits on exactly one node that is not `gone`. */
const movedAwayFrom = (c: LabCluster, gone: LabNode) => () => c.holders().length === 1 && c.holders()[0] !== gone.plan.name;

/** Runs `name` on the cluster (see the module doc). */
export async function runScenario(c: LabCluster, name: ScenarioName, opts: ScenarioOptions): Promise<ScenarioResult> {
  const plan = c.plan;
  const expected = c.expectedMaster();
  if (name === 'converge') {
    const result = await measure(c, name, {
      action: () => c.heal(),
      settled: () => c.holders().join() === expected.plan.name,
      deadlineMs: masterDownMs(plan, expected.plan.vrrp!.priority) + 10_000,
      boundMs: masterDownMs(plan, expected.plan.vrrp!.priority) + 1000,
      checks: ({ records, holderAfter }) => {
        const silent = c.nodes.filter((n) => !records.some((r) => r.by === n.plan.name)).map((n) => n.plan.name);
        return [
          ...(holderAfter !== expected.plan.name ? [`VIP on ${holderAfter ?? 'no node'}, expected ${expected.plan.name}`] : []),
          ...(silent.length ? [`no request reached the apiserver of ${silent.join(', ')}`] : []),
        ];
      },
      // The nodes start one after another, and VRRP elects among those present: a node whose
      // first check ran before its HAProxy listened enters at priority 1 (keepalived counts a
      // first failure at once) and may hold the VIP until a healthier node arrives.
      maxMoves: Infinity,
    });
    const path = result.holderChanges.filter((e) => e.held && e.vip === plan.vip.addresses[0]).map((e) => e.node);
    if (path.length > 1) result.notes.push(`VIP went ${path.join(' -> ')} while the nodes started`);
    return result;
  }
  if (name === 'rejoin') {
    let down = c.nodes.find((n) => !n.linkUp);
    if (!down) {
      await healthy(c);
      down = c.byName(c.holders()[0]!);
      await c.crash(down);
      await c.until(movedAwayFrom(c, down), masterDownMs(plan, 1) + 5000);
      await sleep(2000);
    }
    const node = down;
    const result = await measure(c, name, {
      action: () => c.heal(node),
      settled: () => c.holders().join() === expected.plan.name,
      deadlineMs: masterDownMs(plan, 1) + 5000,
      // Not moving back is legitimate (nopreempt): reported, not failed.
      mustSettle: false,
      boundMs: outageBoundsMs(plan, 1).rejoin!,
    });
    const movedBack = result.holderAfter === node.plan.name;
    result.notes.push(movedBack ? `VIP moved back to ${node.plan.name} after ${result.settleMs} ms` : `VIP stayed on ${result.holderAfter}`);
    return result;
  }
  await healthy(c);
  const holder = c.byName(c.holders()[0]!);
  const next = c.expectedMaster(c.nodes.filter((n) => n !== holder));
  const bounds = outageBoundsMs(plan, next.plan.vrrp!.priority);
  const away = movedAwayFrom(c, holder);
  const expectNext = ({ holderAfter }: { holderAfter: string | null }) =>
    holderAfter === next.plan.name ? [] : [`VIP on ${holderAfter ?? 'no node'}, expected ${next.plan.name}`];
  switch (name) {
    case 'master-crash':
      return measure(c, name, { action: () => c.crash(holder), settled: away, deadlineMs: bounds[name]! + 5000, boundMs: bounds[name]!, checks: expectNext });
    case 'master-stop':
      return measure(c, name, { action: () => c.stop(holder, 'keepalived'), settled: away, deadlineMs: bounds[name]! + 5000, boundMs: bounds[name]!, checks: expectNext });
    case 'haproxy-dies':
      return measure(c, name, { action: () => c.kill(holder, 'haproxy'), settled: away, deadlineMs: bounds[name]! + 5000, boundMs: bounds[name]!, checks: expectNext });
    case 'apiserver-dies':
      return measure(c, name, {
        action: () => c.stopApiserver(holder),
        settled: () => false, // nothing should move: watch until HAProxy has marked it down
        deadlineMs: opts.markDownMs + 1000,
        mustSettle: false,
        boundMs: opts.markDownMs,
        outageBounded: false,
        checks: ({ records, tAct, holderAfter }) => {
          const late = records.filter((r) => !r.ok && r.t > tAct + opts.markDownMs).length;
          return [
            ...(holderAfter !== holder.plan.name ? [`VIP moved to ${holderAfter ?? 'no node'}; it must stay on ${holder.plan.name}`] : []),
            ...(late ? [`${late} failed requests after HAProxy's check should have marked ${holder.plan.name} down`] : []),
          ];
        },
      });
  }
}

/**
 * Failover bounds of the lab, derived from the plan's timing (issue #3), from the VRRP timing
 * facts in profile/vrrp.ts (RFC 3768 / RFC 5798 6.1, keepalived vrrp.c).
 */
import type { Plan } from '../model.js';
import { failoverTimesMs, masterDownMs as masterDown } from '../profile/vrrp.js';

/** Master-down interval in ms seen by a backup with `priority`: 3 x advert_int + skew. */
export function masterDownMs(plan: Plan, priority: number): number {
  return masterDown(priority, plan.keepalived.advertInterval, plan.keepalived.vrrpVersion);
}

/** Client-visible outage bounds in ms, per scenario; `takeoverPriority` = the next holder's. */
export function outageBoundsMs(plan: Plan, takeoverPriority: number): Record<string, number> {
  // The times `k8s-ha check` prints for the profile (profile/vrrp.ts), plus measuring slack;
  // never below the fixed bounds the lab has always held the defaults to.
  const t = failoverTimesMs(plan.keepalived, takeoverPriority);
  return {
    'master-crash': t.holderPowerLoss + 1000,
    'master-stop': Math.max(1500, t.gracefulStop + 1000),
    'haproxy-dies': Math.max(5000, t.haproxyDeath + 1000),
    // A planned move back by preemption is as quick as a graceful stop.
    rejoin: 1500,
  };
}

/** How long after a scenario's VIP change failed requests are still tolerated (issue #3). */
export const SETTLE_GRACE_MS = 1000;

/** Longest tolerated overlap of two VIP holders: one 20 ms sampling period (issue #3). */
export const DUAL_HOLDER_TOLERANCE_MS = 20;

/**
 * Worst-case ms until HAProxy marks a dead server down, read from the haproxy.cfg that runs:
 * `fall` consecutive failed checks `inter` ms apart (HAProxy defaults: fall 3, inter 2000 ms,
 * configuration.txt 5.2), plus the check timeout when one is set (a silent server).
 */
export function haproxyMarkDownMs(cfg: string, plan: Plan): number {
  const ms = (re: RegExp, dflt: number) => {
    const m = re.exec(cfg);
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : dflt;
  };
  const fall = Number(/\bfall\s+(\d+)/.exec(cfg)?.[1] ?? 3);
  const inter = ms(/\binter\s+(\d+)(ms|s)?\b/, plan.haproxy.checkIntervalMs);
  return fall * inter + ms(/\btimeout\s+check\s+(\d+)(ms|s)?\b/, 0);
}

/**
 * Failover bounds of the lab, derived from the plan's timing (issue #3), from the VRRP timing
 * facts in profile/vrrp.ts (RFC 3768 / RFC 5798 6.1, keepalived vrrp.c).
 */
import type { Plan } from '../model.js';
import { failoverTimesMs, masterDownMs as masterDown, skewMs } from '../profile/vrrp.js';

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

/**
 * Scheduling allowance of the handover bound, ms: how late keepalived and the lab's netlink
 * watch may run on a loaded machine. Stated, not derived: the longest handover overlap
 * measured over 20 soak runs of fixtures/lab/lab-fast.toml (160 scenario runs, 25 handovers)
 * on a 2-core machine shared with ~6 busy builds (load average ~20) was 86 ms (README, "The lab
 * as statistics"); 250 ms is about 3x that, and far below any split brain the lab provokes
 * (seconds).
 */
export const SCHEDULING_ALLOWANCE_MS = 250;

/**
 * Longest overlap of two VIP holders that is a handover, not a split brain, in ms:
 * advert_int + the largest Skew_Time of the plan's VRRP nodes + {@link SCHEDULING_ALLOWANCE_MS}.
 *
 * Why: VRRP hands a VIP over without a gap, so for a moment both nodes hold it. In a
 * preemption the new master adds the VIP and sends its first advert at once; the old master
 * drops the VIP when it receives that advert or, should it be lost, the next one, one
 * advert_int later (RFC 5798 6.4.3: a MASTER that receives a higher-priority advert goes to
 * BACKUP and removes the address). When the old master leaves instead (priority 0 advert), a
 * backup waits Skew_Time before it takes over (RFC 5798 6.4.2), so an old master still tearing
 * down overlaps it by less than that. Anything longer is not a handover but two masters that do
 * not hear each other: a split brain, which the lab fails.
 */
export function handoverBoundMs(plan: Plan): number {
  const { advertInterval, vrrpVersion } = plan.keepalived;
  const skews = plan.nodes.filter((n) => n.vrrp).map((n) => skewMs(n.vrrp!.priority, advertInterval, vrrpVersion));
  return advertInterval * 1000 + Math.max(0, ...skews) + SCHEDULING_ALLOWANCE_MS;
}

/**
 * Worst-case ms until HAProxy marks a dead server down, read from the haproxy.cfg that runs:
 * `fall` consecutive failed checks `inter` ms apart (HAProxy defaults: fall 3, inter 2000 ms,
 * configuration.txt 5.2), plus the check timeout when one is set (a silent server).
 */
export function haproxyMarkDownMs(cfg: string, plan: Plan): number {
  const c = checkTiming(cfg, plan);
  return c.fall * c.inter + c.timeout;
}

/**
 * Worst-case ms from a server's start until HAProxy marks it up again, read from the
 * haproxy.cfg that runs: a DOWN server is checked every `downinter` ms (default `inter`), and
 * once a check passes the next `rise - 1` come `fastinter` ms apart (default `inter`; HAProxy
 * defaults rise 2, configuration.txt 5.2), each taking at most the check timeout.
 */
export function haproxyMarkUpMs(cfg: string, plan: Plan): number {
  const c = checkTiming(cfg, plan);
  return c.downinter + (c.rise - 1) * c.fastinter + c.rise * c.timeout;
}

/** The check settings of haproxy.cfg's `default-server` line (ms; counts), with HAProxy's defaults. */
function checkTiming(cfg: string, plan: Plan) {
  const ms = (re: RegExp, dflt: number) => {
    const m = re.exec(cfg);
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : dflt;
  };
  const inter = ms(/\binter\s+(\d+)(ms|s)?\b/, plan.haproxy.checkIntervalMs);
  return {
    inter,
    fastinter: ms(/\bfastinter\s+(\d+)(ms|s)?\b/, inter),
    downinter: ms(/\bdowninter\s+(\d+)(ms|s)?\b/, inter),
    fall: Number(/\bfall\s+(\d+)/.exec(cfg)?.[1] ?? 3),
    rise: Number(/\brise\s+(\d+)/.exec(cfg)?.[1] ?? 2),
    timeout: ms(/\btimeout\s+check\s+(\d+)(ms|s)?\b/, 0),
  };
}

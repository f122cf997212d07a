/**
 * VRRP timing facts shared by the profile checks (profile/resolve.ts) and the lab's failover
 * bounds (lab/bounds.ts).
 *
 * Skew_Time is (256 - priority) / 256 s in VRRPv2 (RFC 3768 6.1) and
 * (256 - priority) x Master_Adver_Interval / 256 in VRRPv3 (RFC 5798 6.1); keepalived follows
 * them (vrrp.c, vrrp_init_instance_sands). A backup declares the master down after
 * Master_Down_Interval = 3 x advert_int + Skew_Time.
 */

/**
 * Skew_Time in ms of a backup with `priority` (1-254).
 * @param advertIntervalS advert_int in seconds.
 * @param vrrpVersion 2 or 3.
 */
export function skewMs(priority: number, advertIntervalS: number, vrrpVersion: 2 | 3): number {
  return ((256 - priority) * (vrrpVersion === 3 ? advertIntervalS : 1) * 1000) / 256;
}

/** Master_Down_Interval in ms seen by a backup with `priority`: 3 x advert_int + skew. */
export function masterDownMs(priority: number, advertIntervalS: number, vrrpVersion: 2 | 3): number {
  return 3 * advertIntervalS * 1000 + skewMs(priority, advertIntervalS, vrrpVersion);
}

/** The timing facts {@link failoverTimesMs} reads from a plan (Plan['keepalived']). */
export interface FailoverTiming {
  /** advert_int, seconds. */
  advertInterval: number;
  vrrpVersion: 2 | 3;
  /** The track script: seconds between runs and consecutive failures before the weight applies. */
  track: { interval: number; fall: number };
  /** keepalived also tracks the HAProxy process (vrrp_track_process): its death counts at once. */
  trackProcess?: boolean;
}

/**
 * How long, in ms, the VIP is unreachable in each failure the profile's timing decides, with
 * `takeoverPriority` the priority of the backup that takes over (the highest other one):
 * - `holderPowerLoss`: the holder vanishes (power, kernel, link); backups hear no advert and
 *   take over after Master_Down_Interval = 3 x advert_int + skew.
 * - `haproxyDeath`: HAProxy dies on the holder; the track script (checking the local frontend,
 *   which refuses at once) fails `fall` runs `interval` s apart, the holder's priority drops,
 *   and a backup takes over only when its master-down timer fires, since keepalived discards
 *   lower-priority adverts until then (vrrp.c): fall x interval + Master_Down_Interval. With
 *   `trackProcess`, keepalived hears of the exit from the kernel's process events at once
 *   (keepalived.conf(5) vrrp_track_process): Master_Down_Interval alone.
 * - `gracefulStop`: keepalived stops and sends a priority-0 advert; backups wait only their
 *   skew (RFC 3768 / RFC 5798 6.4.2 "Skew_Time").
 * Used by `check`/`render` (printed, warning W110 above {@link SLOW_FAILOVER_MS}) and by the
 * lab's bounds (lab/bounds.ts), so what the profile promises is what the lab holds it to.
 */
export function failoverTimesMs(timing: FailoverTiming, takeoverPriority: number): { holderPowerLoss: number; haproxyDeath: number; gracefulStop: number } {
  const down = masterDownMs(takeoverPriority, timing.advertInterval, timing.vrrpVersion);
  return {
    holderPowerLoss: down,
    haproxyDeath: (timing.trackProcess ? 0 : timing.track.fall * timing.track.interval * 1000) + down,
    gracefulStop: skewMs(takeoverPriority, timing.advertInterval, timing.vrrpVersion),
  };
}

/** Failover slower than this (ms) is warned about: clients (kubectl, kubelets) notice 10 s of API outage. */
export const SLOW_FAILOVER_MS = 10_000;

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

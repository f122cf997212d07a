/**
 * keepalived: the VRRP instance that floats the VIPs, and the health-check script it tracks.
 */
import type { Family, NodeFile, Plan, PlanNode } from '../model.js';
import { ipFamily } from '../profile/values.js';
import { quoted, renderKeepalived, word, type Stmt } from './conf.js';
import { haproxyCommand } from './haproxy.js';

/** Where the files land on the node; the static pod mounts this directory at the same path. */
export const KEEPALIVED_DIR = '/etc/keepalived';
export const KEEPALIVED_CONF = `${KEEPALIVED_DIR}/keepalived.conf`;
export const CHECK_SCRIPT = `${KEEPALIVED_DIR}/check_apiserver.sh`;
/**
 * The drain file: while it exists, check_apiserver.sh fails, so keepalived lowers this node's
 * priority by the track weight (below every healthy peer) and a peer takes the VIPs. The
 * rollout's update script (src/day2/script.ts) creates it on the VIP holder before replacing
 * files and removes it once the new pods serve.
 */
export const DRAIN_FILE = `${KEEPALIVED_DIR}/k8s-ha-drain`;

/** Name of the (first) vrrp_instance and of the vrrp_script; a second family's instance gets `_ipv4`/`_ipv6` appended. */
const INSTANCE = 'k8s_api_vip';
const SCRIPT = 'check_apiserver';
/** The vrrp_track_process that watches the node's HAProxy (keepalived.trackProcess). */
const PROCESS = 'haproxy_process';
/** The vrrp_sync_group that binds a dual-stack node's two instances. */
const SYNC_GROUP = 'k8s_api_vips';
const instanceName = (index: number, family: Family): string => (index === 0 ? INSTANCE : `${INSTANCE}_ipv${family}`);

/** One VRRP instance's family as keepalived.conf and the VRRP preflight see it. */
export interface VrrpFamily {
  family: Family;
  /** `vip.routerId` for the plan's primary family, `vip.secondaryRouterId` for the other. */
  routerId: number;
  /** The plan's VIPs of this family. */
  vips: string[];
  /** A node's address of this family (its `address`, or `secondaryAddress` for the other family). */
  addressOf: (n: PlanNode) => string | undefined;
}

/**
 * The plan's VRRP instances, one per VIP family, primary family first (an instance cannot mix
 * IPv4 and IPv6 VIPs): the one list keepalived.conf and the VRRP preflight are both made from.
 */
export function vrrpFamilies(plan: Plan): VrrpFamily[] {
  const families = ([plan.family, plan.family === 4 ? 6 : 4] as Family[]).filter((f) => plan.vip.addresses.some((a) => ipFamily(a) === f));
  return families.map((family, i) => ({
    family,
    routerId: i === 0 ? plan.vip.routerId : plan.vip.secondaryRouterId!,
    vips: plan.vip.addresses.filter((a) => ipFamily(a) === family),
    addressOf: (n) => (family === plan.family ? n.address : n.secondaryAddress),
  }));
}

/**
 * Gratuitous ARP / unsolicited NA settings (keepalived global_defs) so that, after a split brain
 * heals, the single remaining holder re-announces the VIPs and neighbours that learned the
 * loser's MAC converge (keepalived#2649, kube-vip#1413). Facts (keepalived.conf(5) 2.2.7,
 * "vrrp_garp_*"; keepalived/vrrp/vrrp.c vrrp_state_master_rx in acassen/keepalived):
 * - a MASTER that receives a LOWER-priority advert (the healed split brain's loser, still
 *   MASTER) sends an advert and `vrrp_garp_lower_prio_repeat` GARP/NA at once, and another set
 *   `vrrp_garp_lower_prio_delay` s later;
 * - the loser receives the winner's HIGHER-priority advert and goes BACKUP; without
 *   `vrrp_higher_prio_send_advert` it may do so before the winner ever heard one of its adverts,
 *   and then the winner sends no GARP at all: with it, the loser sends one last (lower
 *   priority) advert first, which triggers the winner's GARPs;
 * - `vrrp_garp_master_refresh` (whole seconds) re-sends GARP/NA every that many seconds while
 *   MASTER: the backstop that bounds a stale neighbour entry when every advert of the heal is
 *   lost. {@link garpSettings} derives it from advert_int: {@link GARP_REFRESH_ADVERTS} adverts,
 *   rounded up to whole seconds (keepalived's resolution), so a client's stale entry lasts at most
 *   about one failover time longer.
 * `vrrp_garp_master_delay`/`_repeat` keep keepalived's defaults (5 s, 5 messages), written out
 * so the behaviour does not depend on the image's build.
 */
export const GARP_REFRESH_ADVERTS = 5;

/** GARP timing of a plan, seconds (see {@link GARP_REFRESH_ADVERTS}). */
export interface GarpSettings {
  /** vrrp_garp_master_delay / vrrp_garp_lower_prio_delay: seconds until the second set. */
  delay: number;
  /** vrrp_garp_master_repeat / vrrp_garp_lower_prio_repeat: messages per set. */
  repeat: number;
  /** vrrp_garp_master_refresh: seconds between refreshes while MASTER (>= 1). */
  refresh: number;
}

/** The GARP settings for `advertInterval` (seconds, > 0). */
export function garpSettings(advertInterval: number): GarpSettings {
  return { delay: 5, repeat: 5, refresh: Math.max(1, Math.ceil(GARP_REFRESH_ADVERTS * advertInterval - 1e-9)) };
}

/**
 * keepalived.conf for one control-plane node:
 * - one vrrp_instance per VIP family (an instance cannot mix IPv4 and IPv6 VIPs), the nodes'
 *   primary family first with `vip.routerId`, the other with `vip.secondaryRouterId`; the
 *   same state and priority in both, bound by a `vrrp_sync_group` that carries the track
 *   script, so both VIPs move together;
 * - each vrrp_instance: `state MASTER` on the first node and `BACKUP` elsewhere (keepalived
 *   only knows these, case-sensitive), the node's distinct priority, no `nopreempt`;
 * - unicast: `unicast_src_ip` = the node, `unicast_peer` = the OTHER nodes, in the instance's
 *   family (`address` or `secondaryAddress`; multicast is blocked in many clouds);
 * - all VIPs as host routes (/32 or /128) on the node's interface;
 * - `vrrp_version 3` for IPv6 or sub-second advert_int, and then no authentication block
 *   (keepalived -t fails on one: "VRRP version 3 does not support authentication");
 * - a tracked `vrrp_script` whose negative weight exceeds the priority spread, so a MASTER
 *   whose HAProxy fails drops below every healthy BACKUP;
 * - the GARP settings of {@link garpSettings} in global_defs;
 * - with `keepalived.trackProcess`, also a tracked `vrrp_track_process` (see
 *   {@link trackProcessBlock}) with the script's weight, where the script is tracked.
 * @throws Error for a worker node (workers run no keepalived).
 */
export function keepalivedConf(plan: Plan, node: PlanNode): NodeFile {
  if (!node.vrrp) throw new Error(`node ${node.name} runs no keepalived`);
  const k = plan.keepalived;
  const where = 'keepalived.conf';
  const w = (v: string | number) => word(v, where);
  const globals: Stmt[] = [
    { words: ['router_id', w(node.name)] },
    // Run the check as root, and refuse scripts writable by non-root (keepalived.conf(5)).
    { words: ['script_user', 'root'] },
    { words: ['enable_script_security'] },
  ];
  if (k.vrrpVersion === 3) globals.push({ words: ['vrrp_version', '3'] });
  // Re-announce the VIPs after a split brain heals (see GarpSettings).
  const garp = garpSettings(k.advertInterval);
  globals.push(
    { words: ['vrrp_garp_master_delay', w(garp.delay)] },
    { words: ['vrrp_garp_master_repeat', w(garp.repeat)] },
    { words: ['vrrp_garp_lower_prio_delay', w(garp.delay)] },
    { words: ['vrrp_garp_lower_prio_repeat', w(garp.repeat)] },
    { words: ['vrrp_garp_master_refresh', w(garp.refresh)] },
    { words: ['vrrp_garp_master_refresh_repeat', '1'] },
    { words: ['vrrp_higher_prio_send_advert', 'true'] },
  );
  const vrrp = node.vrrp;
  const trackScript: Stmt = { words: ['track_script'], block: [{ words: [SCRIPT] }] };
  // Tracked wherever the script is: an instance, or the sync group (whose weights keepalived keeps).
  const tracked: Stmt[] = [trackScript, ...(k.trackProcess ? [{ words: ['track_process'], block: [{ words: [PROCESS] }] }] : [])];
  const families = vrrpFamilies(plan);
  const instances: Stmt[] = families.map(({ family, routerId, vips, addressOf }, i) => {
    const primary = family === plan.family;
    const src = addressOf(node);
    if (src === undefined) throw new Error(`node ${node.name} has no IPv${family} address for the IPv${family} VIPs`);
    const peers = primary ? vrrp.peers : plan.nodes.filter((n) => n.vrrp && n !== node).map((n) => addressOf(n)!);
    const instance: Stmt[] = [
      { words: ['state', vrrp.state] },
      { words: ['interface', w(node.interface)] },
      { words: ['virtual_router_id', w(routerId)] },
      { words: ['priority', w(vrrp.priority)] },
      { words: ['advert_int', w(k.advertInterval)] },
    ];
    // A single node has no peer: keepalived -t rejects unicast keywords with an empty peer list
    // ("A unicast keyword has been specified without any unicast peers"), so leave them out.
    if (peers.length > 0)
      instance.push(
        { words: ['unicast_src_ip', w(src)] },
        { words: ['unicast_peer'], block: peers.map((p) => ({ words: [w(p)] })) },
      );
    if (k.authPass !== undefined && k.vrrpVersion === 2) {
      instance.push({ words: ['authentication'], block: [{ words: ['auth_type', 'PASS'] }, { words: ['auth_pass', w(k.authPass)] }] });
    }
    const hostBits = family === 4 ? 32 : 128;
    instance.push({ words: ['virtual_ipaddress'], block: vips.map((a) => ({ words: [w(`${a}/${hostBits}`)] })) });
    // One instance tracks the script itself; two track it through their sync group (below).
    if (families.length === 1) instance.push(...tracked);
    return { words: ['vrrp_instance', instanceName(i, family)], block: instance };
  });
  // Two families: a sync group makes a transition of one instance the other's too, so both
  // VIPs always sit on one node (keepalived.conf(5), "VRRP synchronization group(s)"). The
  // track script moves to the group: keepalived zeroes the weights of scripts tracked by a
  // grouped instance ("ignoring tracked script ... with weights due to SYNC group", keepalived
  // -t, 2.2.7), which would turn a dead HAProxy into FAULT on every node at once during
  // bootstrap; a group's track_script keeps its weight and applies it to every member.
  const syncGroup: Stmt[] =
    families.length > 1
      ? [{ words: ['vrrp_sync_group', SYNC_GROUP], block: [{ words: ['group'], block: families.map((f, i) => ({ words: [instanceName(i, f.family)] })) }, ...tracked] }]
      : [];
  const t = k.track;
  const content = renderKeepalived(
    [`keepalived.conf for node ${node.name} of cluster ${plan.name}, generated by k8s-ha; do not edit.`],
    [
      { words: ['global_defs'], block: globals },
      {
        words: ['vrrp_script', SCRIPT],
        block: [
          { words: ['script', quoted(CHECK_SCRIPT, where)] },
          { words: ['interval', w(t.interval)] },
          // keepalived's own limit is 1 s above curl's --max-time, so curl decides.
          { words: ['timeout', w(t.timeout + 1)] },
          { words: ['fall', w(t.fall)] },
          { words: ['rise', w(t.rise)] },
          { words: ['weight', w(t.weight)] },
          // A (re)started keepalived counts the check as failed until it passes `rise` times,
          // so a restarted node (a rollout, a reboot) does not preempt the VIP before its
          // HAProxy serves, nor while its drain file exists. Without it a script with a weight
          // starts in INIT and keepalived applies no weight: full priority at once (keepalived
          // vrrp/vrrp_track.c initialise_track_script_state; keepalived.conf(5) init_fail).
          { words: ['init_fail'] },
        ],
      },
      ...(k.trackProcess ? [trackProcessBlock(plan, node)] : []),
      ...instances,
      ...syncGroup,
    ],
  );
  return { path: KEEPALIVED_CONF, mode: 0o600, content, secret: k.authPass !== undefined && k.vrrpVersion === 2 };
}

/**
 * `vrrp_track_process` for keepalived.trackProcess: the node's HAProxy, matched by its whole
 * command line (`full_command`, argv[0] `haproxy`, then the parameters of
 * {@link haproxyCommand}, which end in the node's name; `param_match partial`: those first, so
 * arguments added after them would still match), with the track script's weight. With no such
 * process (quorum 1, keepalived's default; HAProxy runs as one process then) keepalived applies the weight as soon as the kernel reports the exit (process events through
 * the netlink proc connector, keepalived.conf(5) vrrp_track_process), not after `fall` checks
 * of at least 1 s each (`keepalived -t`: "vrrp script interval '0.2' must be between 1 and
 * 4294"). No delay: a static pod never reloads HAProxy in place (a new config restarts the pod).
 */
function trackProcessBlock(plan: Plan, node: PlanNode): Stmt {
  const where = 'keepalived.conf';
  const [program, ...params] = haproxyCommand(plan, node.name);
  return {
    words: ['vrrp_track_process', PROCESS],
    block: [
      { words: ['process', word(program!, where), ...params.map((p) => word(p, where))] },
      { words: ['param_match', 'partial'] },
      { words: ['full_command'] },
      { words: ['weight', word(plan.keepalived.track.weight, where)] },
    ],
  };
}

/**
 * check_apiserver.sh: exits non-zero while the drain file DRAIN_FILE exists (a rollout moving
 * the VIPs away from this node), or when the LOCAL HAProxy frontend cannot serve /healthz
 * from some apiserver (as in kubeadm's HA guide: a dead local apiserver does not move the VIP,
 * HAProxy routes around it; a dead HAProxy does). POSIX sh + curl (present in the keepalived
 * image); `-k` because the apiserver's certificate does not name 127.0.0.1 / ::1 before init.
 */
export function checkScript(plan: Plan): NodeFile {
  const host = plan.family === 4 ? '127.0.0.1' : '[::1]';
  const url = word(`https://${host}:${plan.vip.port}/healthz`, 'check_apiserver.sh');
  const maxTime = word(plan.keepalived.track.timeout, 'check_apiserver.sh');
  const content = [
    '#!/bin/sh',
    `# Generated by k8s-ha for cluster ${word(plan.name)}: keepalived tracks this script (vrrp_script ${SCRIPT}).`,
    '# Exit status 0 when the local HAProxy frontend answers /healthz from some apiserver;',
    `# 1 while ${DRAIN_FILE} exists (a rollout drains this node of the VIP).`,
    `if [ -e ${word(DRAIN_FILE, 'check_apiserver.sh')} ]; then exit 1; fi`,
    // Quoted: unquoted, the IPv6 `[::1]` is a glob bracket expression to sh (shellcheck SC2102).
    `exec curl --silent --fail --insecure --max-time ${maxTime} --output /dev/null '${url}'`,
    '',
  ].join('\n');
  return { path: CHECK_SCRIPT, mode: 0o755, content };
}

/**
 * The VIP watch (issue #20 items 2 and 3): a sidecar container in the keepalived static pod
 * that, while this node holds an IPv4 VIP, asks the segment who else answers ARP for it. A
 * second MAC answering for a VIP we hold means two hosts hold it:
 * - the MAC is a peer's (one of this cluster's control-plane nodes): two VRRP MASTERs, i.e. the
 *   two do not hear each other's adverts; the watch logs
 *   `VRRP from <peer> not received: protocol 112 may be filtered` (security groups, SDN or a
 *   host firewall dropping IP protocol 112; keepalived#1367, k0s#5396);
 * - any other MAC: a duplicate VIP, another host or cluster configured with our address.
 *
 * Why a sidecar and not a keepalived notify or track script: keepalived points the stdout and
 * stderr of the scripts it runs at /dev/null (keepalived lib/notify.c), so nothing they say
 * reaches a log; a container's stdout is kept by the runtime (`kubectl logs -n kube-system
 * keepalived-<node> -c vip-watch`, `crictl logs`).
 *
 * How it asks: `arping -b -s <node address> -I <iface> <VIP>`, broadcast ARP requests from
 * the node's own address (never from the VIP: a request with the VIP as sender would be a
 * gratuitous ARP and move neighbours' entries to us), collecting every reply within
 * {@link PROBE_SECONDS}. Duplicate-address-detection mode (`arping -D`) is not used: both
 * iputils' and busybox's arping stop at the first reply there (tried), so a third holder would
 * hide behind the second. Both arpings print `Unicast reply from <VIP> [<MAC>]` (iputils in
 * upper case, busybox in lower case); the script reads either. Our own kernel never answers our
 * own request, so on a clean segment no reply comes.
 *
 * No false alarm on a handover: during a VRRP takeover both nodes hold the VIP only until the
 * old MASTER hears the new one's advert (RFC 3768 section 6.4.3, RFC 5798 section 6.4.3),
 * well under one advert interval. A duplicate is reported only when every check over at least
 * {@link confirmSeconds} (3 x advert_int + 1 s, rounded up) saw it. A check's time is taken
 * before its first probe, and busybox's arping sends a second probe 1 s later, so the duplicate
 * was there for at least confirmSeconds - 1 s >= 3 x advert_int: three adverts that the two
 * holders did not hear from each other, never a handover.
 *
 * IPv6 VIPs are not watched: neither arping speaks NDP, and the image carries no NDP prober; the
 * script says so once at start.
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import type { NodeFile, Plan, PlanNode } from '../model.js';
import { KEEPALIVED_DIR, vrrpFamilies } from './keepalived.js';
import { word } from './conf.js';

/** Where the script lands on control-plane nodes (0755), under the keepalived pod's config mount. */
export const VIP_WATCH = `${KEEPALIVED_DIR}/vip-watch.sh`;

/**
 * Whether the plan runs the watch: `keepalived.vipWatch = "on"` and at least one IPv4 VIP (an
 * IPv6-only cluster gets neither the script nor the sidecar: there would be nothing to watch).
 */
export function vipWatchRuns(plan: Plan): boolean {
  return plan.keepalived.vipWatch === 'on' && vrrpFamilies(plan).some((f) => f.family === 4);
}

/** What starts every line of the watch that reports a duplicate (the lab looks for it). */
export const DUPLICATE_MARK = 'DUPLICATE:';

/** Name of the sidecar container in the keepalived pod. */
export const VIP_WATCH_CONTAINER = 'vip-watch';

/** Seconds each check waits for ARP replies (`arping -w`); replies on a LAN take well under 1 ms. */
export const PROBE_SECONDS = 1;

/**
 * Longest one arping call takes, seconds: busybox's arping, asked for more than one probe, sends
 * one a second and returns one second after `-w` (measured: 2.0 s for `-c 16 -w 1`, BusyBox
 * 1.35); iputils' returns at `-w` (1.0 s).
 */
export const ARPING_SECONDS = PROBE_SECONDS + 1;

/** Seconds the watch sleeps between checks. */
export const PAUSE_SECONDS = 1;

/**
 * Whole seconds a duplicate must persist before it is reported: 3 x advert_int + 1 s, rounded
 * up (at least the backup's Master_Down_Interval, 3 x advert_int + skew < 1 s: RFC 3768
 * section 6.1, RFC 5798 section 6.1), so no handover is ever reported.
 */
export function confirmSeconds(advertInterval: number): number {
  return Math.ceil(3 * advertInterval + 1 - 1e-9);
}

/**
 * Upper bound, seconds, from the moment a second host holds a VIP this node holds until the
 * watch has logged it: the next check starts within one check period (PAUSE_SECONDS +
 * ARPING_SECONDS), the confirming check within confirmSeconds + one period of the first, and
 * naming the owner of the MAC asks each peer once (at most ARPING_SECONDS each). For lab.toml
 * (advert_int 1 s, 3 nodes): 2 x 3 + 4 + 2 x 2 = 14 s; measured 6 s (iputils) and 10 s (busybox). Does not include the time a
 * blocked backup needs to become MASTER (its Master_Down_Interval).
 */
export function vipWatchBoundSeconds(plan: Plan): number {
  const period = PAUSE_SECONDS + ARPING_SECONDS;
  const peers = plan.nodes.filter((n) => n.vrrp).length - 1;
  return 2 * period + confirmSeconds(plan.keepalived.advertInterval) + peers * ARPING_SECONDS;
}

/**
 * The watch script of one control-plane node (POSIX sh, busybox ash too; see the module doc).
 * Every value is validated by {@link word} before it is written. Runs forever; logs to stdout:
 * a start line, `DUPLICATE ...` once per duplicate (with the VRRP path message for a peer's
 * MAC), and a line when the VIP is answered by this node alone again.
 * Exits 1 only when `arping` or `ip` is missing from the image (said on stdout).
 * @throws Error for a worker node (workers run no keepalived).
 */
export function vipWatchScript(plan: Plan, node: PlanNode): NodeFile {
  if (!node.vrrp) throw new Error(`node ${node.name} runs no keepalived`);
  const w = (v: string | number) => word(v, 'vip-watch.sh');
  const families = vrrpFamilies(plan);
  const v4 = families.find((f) => f.family === 4);
  const v6 = families.filter((f) => f.family === 6).flatMap((f) => f.vips);
  const self = v4?.addressOf(node);
  const peers = v4 ? plan.nodes.filter((n) => n.vrrp && n !== node).map(v4.addressOf).filter((a): a is string => a !== undefined) : [];
  const content = [
    '#!/bin/sh',
    `# VIP watch for node ${w(node.name)} of cluster ${w(plan.name)}, generated by k8s-ha: do not edit.`,
    '# While this node holds a VIP, asks the segment who else answers ARP for it; a second MAC that',
    `# persists for ${confirmSeconds(plan.keepalived.advertInterval)} s is logged (a peer's MAC: VRRP between us is blocked; any other: a`,
    '# duplicate VIP). Logs to stdout (kubectl logs -n kube-system keepalived-<node> -c vip-watch).',
    '# Silence it: keepalived.vipWatch = "off".',
    'set -u',
    `IFACE='${w(node.interface)}'`,
    `SELF='${self === undefined ? '' : w(self)}'`,
    `VIPS='${(v4?.vips ?? []).map(w).join(' ')}'`,
    `PEERS='${peers.map(w).join(' ')}'`,
    `UNWATCHED='${v6.map(w).join(' ')}'`,
    `CONFIRM=${confirmSeconds(plan.keepalived.advertInterval)}`,
    `PROBE=${PROBE_SECONDS}`,
    `PAUSE=${PAUSE_SECONDS}`,
    '',
    "log() { printf '%s k8s-ha vip-watch: %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$*\"; }",
    '',
    'for tool in arping ip; do',
    '  if ! command -v "$tool" >/dev/null 2>&1; then',
    '    log "ERROR: $tool not found in this image: the VIP watch cannot run (use an image with busybox\'s or iputils\' arping and ip, keepalived.vipWatchImage; or keepalived.vipWatch = \\"off\\")"',
    '    exit 1',
    '  fi',
    'done',
    '',
    '# MACs (lower case) that answer ARP for $1, asked from our own address.',
    'answers() {',
    '  arping -b -c 16 -w "$PROBE" -I "$IFACE" -s "$SELF" "$1" 2>/dev/null |',
    "    sed -n 's/^Unicast reply from [^ ]* \\[\\([0-9A-Fa-f:]*\\)\\].*/\\1/p' | tr 'A-F' 'a-f' | sort -u",
    '}',
    '',
    '# "MAC=peer" for every peer that answers ARP (each asked once).',
    'peer_macs() {',
    '  for p in $PEERS; do',
    '    m=$(answers "$p" | head -n 1)',
    '    if [ -n "$m" ]; then printf \'%s=%s\\n\' "$m" "$p"; fi',
    '  done',
    '}',
    '',
    "holds() { ip -o -4 addr show dev \"$IFACE\" 2>/dev/null | grep -q \" inet $1/\"; }",
    '',
    'if [ -z "$VIPS" ] || [ -z "$SELF" ]; then log "no IPv4 VIP: nothing to watch"; exec sleep 2147483647; fi',
    'if [ -n "$UNWATCHED" ]; then log "IPv6 VIPs $UNWATCHED are not watched (arping speaks ARP only)"; fi',
    'log "watching $VIPS on $IFACE from $SELF (peers: ${PEERS:-none}); a duplicate must persist ${CONFIRM} s"',
    '',
    '# Per VIP (by position i): since_i = when the current run of sightings began (epoch s),',
    '# told_i = the MACs last reported.',
    'while :; do',
    '  i=0',
    '  for vip in $VIPS; do',
    '    i=$((i + 1))',
    '    now=$(date +%s)',
    '    macs=""',
    '    if holds "$vip"; then macs=$(answers "$vip" | tr \'\\n\' \' \'); macs=${macs% }; fi',
    '    eval "since=\\${since_$i:-} told=\\${told_$i:-}"',
    '    if [ -z "$macs" ]; then',
    '      if [ -n "$told" ]; then log "VIP $vip: only this node answers again"; fi',
    '      eval "since_$i= told_$i="',
    '      continue',
    '    fi',
    '    if [ -z "$since" ]; then eval "since_$i=$now"; continue; fi',
    '    if [ $((now - since)) -lt "$CONFIRM" ] || [ "$macs" = "$told" ]; then continue; fi',
    '    eval "told_$i=\\$macs"',
    '    known=$(peer_macs)',
    '    for mac in $macs; do',
    '      peer=$(printf \'%s\\n\' "$known" | sed -n "s/^$mac=//p" | head -n 1)',
    '      if [ -n "$peer" ]; then',
    `        log "${DUPLICATE_MARK} VIP $vip is also held by peer $peer (MAC $mac), seen for \${CONFIRM} s: VRRP from $peer not received: protocol 112 may be filtered (or $peer does not receive ours); two MASTERs"`,
    '      else',
    `        log "${DUPLICATE_MARK} VIP $vip is also answered by MAC $mac, not a node of this cluster, seen for \${CONFIRM} s: another host uses our VIP"`,
    '      fi',
    '    done',
    '  done',
    '  sleep "$PAUSE"',
    'done',
    '',
  ].join('\n');
  return { path: VIP_WATCH, mode: 0o755, content };
}

/**
 * The sidecar container of the keepalived pod: runs {@link VIP_WATCH} with `/bin/sh` from
 * `keepalived.vipWatchImage` (default busybox, which carries arping, ip, sed and tr). Needs
 * NET_RAW for arping's packet socket; hostNetwork comes from the pod.
 */
export function vipWatchContainer(plan: Plan): Container {
  return {
    name: VIP_WATCH_CONTAINER,
    image: plan.keepalived.vipWatchImage,
    command: ['/bin/sh', VIP_WATCH],
    securityContext: { capabilities: { add: ['NET_RAW'] } },
    resources: { requests: { cpu: '5m', memory: '8Mi' } },
  };
}

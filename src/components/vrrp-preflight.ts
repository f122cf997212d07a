/**
 * The VRRP preflight (issue #20): before this node's keepalived starts, listen on the VRRP
 * interface for adverts carrying one of our virtual_router_ids. keepalived treats any router that
 * sends adverts with our router id on the segment as a member of our virtual router: a foreign
 * one (another cluster, a firewall pair) with a higher priority takes our VIPs, or both sides
 * hold them (keepalived issues on VRID collisions). An advert whose source is not one of this
 * cluster's control-plane nodes, or whose VIP set differs from ours, is such a collision: the
 * script logs the foreign source and router id to the journal and exits 1.
 *
 * Capture tool: tcpdump from the OS, because it is packaged everywhere (Ubuntu server images
 * ship it; `apt-get/dnf install tcpdump` elsewhere), decodes VRRPv2 and VRRPv3 for both families
 * including the address list, and needs nothing of ours on the node; a raw-socket reader of our
 * own would be a binary to build and ship per architecture. Capture without promiscuous mode
 * (`-p`): what reaches this host is exactly what its keepalived would hear.
 * When tcpdump is ABSENT the check is skipped with a warning naming the install command (fail
 * open): it is a guard against a misconfigured segment, and a first boot must not stop on an
 * image that lacks a debugging tool. A capture that cannot run (no such interface, no
 * permission) exits 2: that is a broken node, not a clean segment.
 *
 * Exit status: 0 clean (or tcpdump absent: warning), 1 collision, 2 capture failed.
 */
import type { Family, NodeFile, Plan, PlanNode } from '../model.js';
import { vrrpFamilies } from './keepalived.js';
import { word } from './conf.js';

/** Where the script lands on control-plane nodes (0755); the bootstrap runs it before kubeadm. */
export const VRRP_PREFLIGHT = '/etc/k8s-ha/vrrp-preflight.sh';

/** The preflight listens for at least this many advert intervals (ours, and keepalived's default 1 s). */
export const PREFLIGHT_ADVERTS = 3;

/**
 * How long the preflight listens, whole seconds: {@link PREFLIGHT_ADVERTS} x max(advert_int,
 * 1 s), rounded up, plus 1 s for tcpdump's start and the VRRPv2 skew. The max with 1 s is for
 * foreign routers at keepalived's default advert_int: a profile with 0.2 s adverts would
 * otherwise listen too briefly to hear a foreign router advertising every second.
 */
export function preflightSeconds(advertInterval: number): number {
  return Math.ceil(PREFLIGHT_ADVERTS * Math.max(advertInterval, 1) - 1e-9) + 1;
}

/** One VRRP instance of the node as the preflight checks it. */
export interface PreflightInstance {
  family: Family;
  routerId: number;
  /** Every control-plane node's address of this family (ours included: our own adverts are fine). */
  sources: string[];
  /** The instance's VIPs (canonical text form). */
  vips: string[];
}

/** The instances of `node`, as in keepalived.conf (primary family first). */
export function preflightInstances(plan: Plan, node: PlanNode): PreflightInstance[] {
  const cps = plan.nodes.filter((n) => n.vrrp);
  return vrrpFamilies(plan).map(({ family, routerId, vips, addressOf }) => ({
    family,
    routerId,
    sources: cps.map(addressOf).filter((a): a is string => a !== undefined),
    vips,
  }));
}

/**
 * awk program reading `tcpdump -n -v` lines. A VRRP advert reads (tcpdump 4.99, print-vrrp.c):
 * `SRC > DST: VRRPv2, Advertisement, vrid 87, prio 150, ..., addrs(2): A,B auth "..."` or
 * `... VRRPv3, Advertisement, [(ttl 64), ]vrid 87, ..., addrs: A` (IPv4 on the second line of
 * a packet, IPv6 on one line). Input variables: `want` = "family:vrid=src1,src2;vip1,vip2" per
 * instance, space separated. Prints one line per offending (source, router id) pair, once,
 * and exits 1; with none, prints which of our nodes were heard and exits 0. The auth string is
 * never printed.
 */
const AWK = `BEGIN {
  n = split(want, inst, " ")
  for (i = 1; i <= n; i++) {
    split(inst[i], kv, "=")
    split(kv[2], parts, ";")
    ns = split(parts[1], s, ",")
    for (j = 1; j <= ns; j++) src[kv[1] SUBSEP s[j]] = 1
    vips[kv[1]] = parts[2]
    nv[kv[1]] = split(parts[2], v, ",")
    for (j = 1; j <= nv[kv[1]]; j++) vip[kv[1] SUBSEP v[j]] = 1
  }
  bad = 0
}
/: VRRPv[23], Advertisement/ {
  head = $0
  sub(/: VRRPv.*$/, "", head)
  m = split(head, f, " ")
  from = f[m - 2]
  fam = (index(from, ":") > 0) ? 6 : 4
  if (!match($0, /vrid [0-9]+/)) next
  id = substr($0, RSTART + 5, RLENGTH - 5)
  key = fam ":" id
  if (!(key in vips)) next
  addrs = ""
  if (match($0, /addrs(\\([0-9]+\\))?: [^ ]+/)) { addrs = substr($0, RSTART, RLENGTH); sub(/^[^ ]* /, "", addrs) }
  why = ""
  if (!((key SUBSEP from) in src)) why = "its source is not a node of this cluster"
  else {
    k = split(addrs, a, ",")
    same = (k == nv[key])
    for (j = 1; j <= k; j++) if (!((key SUBSEP a[j]) in vip)) same = 0
    if (!same) why = "its VIP set differs from ours"
  }
  if (why == "") { if (!heard[from]++) peers = peers (peers == "" ? "" : ", ") from; next }
  if (seen[from SUBSEP id]++) next
  print "advert from " from " with virtual_router_id " id " (VIPs " (addrs == "" ? "unknown" : addrs) "): " why " (ours: " vips[key] ")"
  bad = 1
}
END {
  if (!bad) print (peers == "" ? "no advert with our virtual_router_id heard" : "adverts heard from our nodes " peers)
  exit bad
}`;

/**
 * The preflight script of one control-plane node (POSIX sh; see the module doc). Values are
 * validated by {@link word} before they are written; the interface and instance list travel as
 * single-quoted assignments.
 * @throws Error for a worker node (workers run no keepalived).
 */
export function vrrpPreflightScript(plan: Plan, node: PlanNode): NodeFile {
  if (!node.vrrp) throw new Error(`node ${node.name} runs no keepalived`);
  const where = 'vrrp-preflight.sh';
  const w = (v: string | number) => word(v, where);
  const instances = preflightInstances(plan, node);
  const want = instances.map((i) => `${i.family}:${w(i.routerId)}=${i.sources.map(w).join(',')};${i.vips.map(w).join(',')}`).join(' ');
  const seconds = preflightSeconds(plan.keepalived.advertInterval);
  const ids = instances.map((i) => i.routerId).join(' and ');
  const content = [
    '#!/bin/sh',
    `# VRRP preflight for node ${w(node.name)} of cluster ${w(plan.name)}, generated by k8s-ha: do not edit.`,
    `# Listens ${seconds} s on ${w(node.interface)} for VRRP adverts with virtual_router_id ${ids}; an advert from a`,
    '# source that is not a node of this cluster, or with other VIPs, is a collision: exit 1.',
    '# Exit 0: clean (or tcpdump absent: warning). Exit 2: the capture could not run.',
    `# Silence it for a segment that shares the router id on purpose: keepalived.vrrpPreflight = "off".`,
    'set -u',
    `IFACE='${w(node.interface)}'`,
    `SECONDS_TO_LISTEN=${seconds}`,
    `WANT='${want}'`,
    '',
    'log() {',
    "  printf 'k8s-ha vrrp-preflight: %s\\n' \"$*\" >&2",
    '  if command -v logger >/dev/null 2>&1; then logger -t k8s-ha -- "vrrp-preflight: $*" || true; fi',
    '}',
    '',
    'if ! command -v tcpdump >/dev/null 2>&1; then',
    '  log "WARNING: tcpdump not found: VRRP preflight skipped, a foreign VRRP router with our virtual_router_id would go unnoticed (install tcpdump: apt-get install -y tcpdump / dnf install -y tcpdump; or a preKubeadmCommands hook)"',
    '  exit 0',
    'fi',
    'out=$(mktemp) || exit 2',
    'err=$(mktemp) || { rm -f "$out"; exit 2; }',
    "trap 'rm -f \"$out\" \"$err\"' EXIT",
    'log "listening ${SECONDS_TO_LISTEN} s on $IFACE for VRRP adverts with our virtual_router_id"',
    "timeout \"$SECONDS_TO_LISTEN\" tcpdump -p -n -l -v -i \"$IFACE\" 'ip proto 112 or ip6 proto 112' >\"$out\" 2>\"$err\"",
    'rc=$?',
    '# timeout(1) exits 124 when it stopped tcpdump: the capture ran for its whole time.',
    'if [ "$rc" -ne 124 ] && [ "$rc" -ne 0 ]; then',
    '  log "ERROR: could not capture on $IFACE (tcpdump exit $rc): $(tail -n 1 "$err")"',
    '  exit 2',
    'fi',
    `if found=$(awk -v want="$WANT" '${AWK.replace(/'/g, "'\\''")}' "$out"); then`,
    '  log "no foreign VRRP router with our virtual_router_id on $IFACE ($found)"',
    '  exit 0',
    'fi',
    'printf \'%s\\n\' "$found" | while IFS= read -r line; do',
    '  log "COLLISION on $IFACE: $line"',
    'done',
    'log "refusing to start keepalived: choose a vip.routerId unused on this segment (or, if the segment shares it on purpose, set keepalived.vrrpPreflight = \\"off\\")"',
    'exit 1',
    '',
  ].join('\n');
  return { path: VRRP_PREFLIGHT, mode: 0o755, content };
}

/**
 * The per-node update script of a rollout (src/day2/rollout.ts): POSIX sh that a user runs as
 * root on a running control-plane node (`ssh root@NODE sh -s < update-NODE.sh`).
 *
 * - idempotent: a file already in its new state (SHA-256 and mode) is left alone; a second run
 *   changes nothing and only waits;
 * - atomic replacement: each file goes to a hidden temporary file in its own directory
 *   (kubelet reads only the manifests matching `[^.]*`: pkg/kubelet/config/file.go
 *   extractFromDir), is checked against its SHA-256, chmod-ed, then renamed over
 *   the old one (rename(2) within one file system);
 * - order: configs first, then each manifest (which makes kubelet restart that pod), each
 *   followed by a wait for the pod to be ready with its new config hash (and, for HAProxy,
 *   /healthz through the local frontend and from every running apiserver);
 * - a step that is not the last refuses to run on a node holding a VIP;
 * - on the last step, a VIP holder whose change restarts HAProxy only (keepalived.conf and the
 *   check script unchanged, no keepalived.trackProcess: see {@link canSteer}) is steered, not
 *   drained: the VIP stays. Before the HAProxy manifest is replaced, an nftables table
 *   ({@link steerRuleset}) DNATs new connections to the VIP's port to a peer whose HAProxy
 *   answers /healthz, masqueraded so that the replies come back through this node; conntrack
 *   keeps established connections on the local HAProxy (the runtime stops it with SIGUSR1,
 *   HAProxy's soft stop, which finishes them) and steered ones steered. Once the new HAProxy
 *   answers on the node's address, the rules go (the table stays: see {@link steerRuleset}).
 *   No nft, forwarding off, a forward policy of drop, no healthy peer or K8S_HA_STEER=0:
 *   drained instead, saying why;
 * - otherwise, on the last step, a VIP holder is drained first: it writes the new check script
 *   (if it changes) and creates the drain file (components/keepalived.ts DRAIN_FILE), so the
 *   check script fails, keepalived lowers this node's priority by the track weight below every
 *   healthy peer and a peer takes the VIPs (no keepalived restart, no moment without a MASTER). It waits for the VIPs to leave
 *   (bounded by drainSeconds), replaces the files, waits for the new pods and HAProxy backends,
 *   and only then removes the drain file. A later run removes a drain file left by a failed
 *   one.
 * Every value put into the script is checked against a strict pattern first (no profile value
 * can inject a command), and file contents travel base64-encoded.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { NodeFile, Plan, PlanNode } from '../model.js';
import type { StaticPodName } from './diff.js';
import { CHECK_SCRIPT, DRAIN_FILE, vrrpFamilies } from '../components/keepalived.js';
import { bracketIp } from '../profile/values.js';

/**
 * Upper bound, in whole seconds, on how long a drained VIP holder keeps the VIPs:
 * - the check script must fail `fall` times in a row: fall x interval, plus one run's
 *   keepalived timeout (track.timeout + 1, components/keepalived.ts);
 * - then the holder advertises its lowered priority; a preempting BACKUP of higher priority
 *   ignores a lower-priority advert and takes over when its Master_Down_Interval runs out:
 *   3 x advert_int + Skew_Time (< 1 s) (RFC 3768 section 6.1, RFC 5798 section 6.1);
 * doubled for a loaded machine, at least 10 s.
 */
export function drainSeconds(plan: Plan): number {
  const k = plan.keepalived;
  const protocol = k.track.fall * k.track.interval + (k.track.timeout + 1) + 3 * k.advertInterval + 1;
  return Math.max(10, Math.ceil(2 * protocol));
}

/** What one node's script does. */
export interface ScriptStep {
  step: number;
  of: number;
  /** The last update step: the only one allowed to run on a VIP holder. */
  last: boolean;
  /** Files to write, in order (configs, then manifests). */
  writes: readonly NodeFile[];
  /** Paths to delete after the writes. */
  deletes: readonly string[];
  restarts: readonly StaticPodName[];
  /** Addresses of the apiservers that run now (control-plane nodes not new in this rollout). */
  apiservers?: readonly string[];
}

/**
 * Whether the last step's script may steer the VIP holder instead of draining it: the step
 * restarts HAProxy only, so keepalived keeps running with its config and the VIP can stay; and
 * keepalived does not track the HAProxy process (keepalived.trackProcess), whose exit would
 * drop the holder's priority at once and move the VIP anyway. Removed files (a removed node's
 * leftovers) keep the drain.
 */
export function canSteer(plan: Plan, s: Pick<ScriptStep, 'last' | 'restarts' | 'deletes'>): boolean {
  return s.last && s.restarts.length === 1 && s.restarts[0] === 'haproxy' && s.deletes.length === 0 && !plan.keepalived.trackProcess;
}

/** The nftables table of a steering holder, one per VIP family (`ip`, `ip6`). */
export const STEER_TABLE = 'k8s_ha_steer';

/**
 * The rule that keeps conntrack on in a steering holder's namespace after steering ends (see
 * {@link steerRuleset}): it counts new connections and decides nothing.
 */
const KEEP_CONNTRACK = 'ct state new counter comment "k8s-ha: keeps conntrack on for the connections steered before"';

/** `addr` when it is an IP literal of `family`. @throws Error otherwise (a bug: addresses are validated with the profile). */
function ipLiteral(addr: string | undefined, family: 4 | 6): string {
  if (addr === undefined || isIP(addr) !== family) throw new Error(`update script: refusing to put ${JSON.stringify(addr)} into an nftables rule as an IPv${family} address`);
  return addr;
}


/**
 * The nftables text (`nft -f`) that steers new connections to the VIPs' port from `node` to
 * `peer`'s HAProxy (the frontend binds every address: components/haproxy.ts), one table
 * {@link STEER_TABLE} per VIP family; without `peer`, the same tables without the steering
 * rules (how steering ends). Per family:
 * - prerouting and output (local clients): a TCP SYN to a VIP on vip.port is DNATed to the
 *   peer's address of that family, same port. SYN only, not `ct state new`: conntrack picks up
 *   a connection it has not seen from a mid-stream packet too (nf_conntrack_tcp_loose), and
 *   such a packet of a connection to the local HAProxy must stay local;
 * - output, the family the check script probes (components/keepalived.ts checkScript: the
 *   local frontend on 127.0.0.1 or ::1): a SYN to loopback on vip.port goes to this node's
 *   apiserver (its address, apiServerPort), so keepalived's check keeps passing while the
 *   local frontend is closed between the old HAProxy and the new one (with the default
 *   fall = 1 one failed check gives the VIP away). A DNAT from loopback to a peer is not
 *   possible (a loopback source leaves no interface without route_localnet, none in IPv6);
 * - postrouting: connections DNATed to the peer are masqueraded, so that the peer answers
 *   this node, which translates the replies back (the client talked to the VIP).
 * Steering ends with the same tables without the DNAT and masquerade rules, not by deleting
 * them: the connections steered until then must stay translated, and the kernel translates a
 * connection only while it tracks connections in the namespace (it registers conntrack's hooks
 * there while some rule needs conntrack: nf_ct_netns_get / nf_ct_netns_put) and has a NAT chain
 * of the family (net/netfilter/nf_nat_core.c nf_nat_register_fn / nf_nat_unregister_fn). So the
 * NAT chains stay, and so does {@link KEEP_CONNTRACK}, a rule that does nothing but use
 * conntrack. Measured in namespaces (kernel 6.18, nft 1.0.6): a connection steered through a
 * holder was reset when the table was flushed of every rule, and went on when one rule that
 * uses conntrack was left. Every address is checked to be an IP literal of its family, every
 * port an integer.
 * @throws Error when a value is not (a bug: the profile validates them).
 */
export function steerRuleset(plan: Plan, node: PlanNode, peer: PlanNode | undefined): string {
  const port = plan.vip.port;
  const apiPort = plan.kubernetes.apiServerPort;
  for (const p of [port, apiPort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`update script: refusing port ${JSON.stringify(p)} in an nftables rule`);
  // Every VIP, before vrrpFamilies sorts them by family (which would drop a non-address).
  for (const v of plan.vip.addresses) ipLiteral(v, isIP(v) === 6 ? 6 : 4);
  const syn = 'tcp flags & (fin|syn|rst|ack) == syn';
  const out: string[] = [];
  // One table per VRRP instance's family, with its VIPs and each node's address of it.
  for (const { family, vips: all, addressOf } of vrrpFamilies(plan)) {
    const vips = all.map((v) => ipLiteral(v, family));
    const t = nftFamily(family);
    const set = vips.length === 1 ? vips[0]! : `{ ${vips.join(', ')} }`;
    const to = peer ? ipLiteral(addressOf(peer), family) : undefined;
    const steer = to ? [`${t} daddr ${set} tcp dport ${port} ${syn} dnat to ${hostPort(to, port)}`] : [];
    const check = to && plan.family === family ? [`${t} daddr ${family === 4 ? '127.0.0.1' : '::1'} tcp dport ${port} ${syn} dnat to ${hostPort(ipLiteral(addressOf(node), family), apiPort)}`] : [];
    const chain = (name: string, hook: string, priority: number, rules: string[]) => [`\tchain ${name} {`, `\t\ttype nat hook ${hook} priority ${priority}; policy accept;`, ...rules.map((r) => `\t\t${r}`), '\t}'];
    out.push(
      `table ${t} ${STEER_TABLE}`,
      `flush table ${t} ${STEER_TABLE}`,
      `table ${t} ${STEER_TABLE} {`,
      ...chain('prerouting', 'prerouting', -100, steer),
      ...chain('output', 'output', -100, [...steer, ...check]),
      ...chain('postrouting', 'postrouting', 100, [...(to ? [`ct status dnat ${t} daddr ${to} tcp dport ${port} masquerade`] : []), KEEP_CONNTRACK]),
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}

/** Characters a value may have to be embedded: no quote, no backslash, no line break (spaces only inside quotes). */
const SAFE = /^[A-Za-z0-9 _.:/@%+=,()[\]-]+$/;

/**
 * `value` single-quoted for sh, after checking it is made of safe characters only.
 * @throws Error for anything else (a bug: every value here was validated with the profile).
 */
function q(value: string | number): string {
  const s = String(value);
  if (!SAFE.test(s)) throw new Error(`update script: refusing to embed ${JSON.stringify(s)}`);
  return `'${s}'`;
}

/** `host:port` for a URL or an nftables DNAT target, IPv6 bracketed. */
const hostPort = (addr: string, port: number) => `${bracketIp(addr)}:${port}`;

/** nftables' address family (and address match keyword) of an IP family. */
const nftFamily = (family: 4 | 6): 'ip' | 'ip6' => (family === 4 ? 'ip' : 'ip6');

/** The config hash a manifest carries (components/static-pods.ts CONFIG_HASH_ANNOTATION). */
function manifestHash(f: NodeFile): string | undefined {
  return /k8s-ha\/config-hash: (sha256:[0-9a-f]{64})/.exec(f.content)?.[1];
}

/** The static pod a manifest path starts (`/etc/kubernetes/manifests/haproxy.yaml` -> `haproxy`). */
function podOf(path: string): StaticPodName | undefined {
  const m = /^\/etc\/kubernetes\/manifests\/(haproxy|keepalived)\.yaml$/.exec(path);
  return m?.[1] as StaticPodName | undefined;
}

/** base64 of the text, 76 characters a line (what base64(1) writes and decodes). */
function base64Lines(text: string): string {
  return (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\n');
}

/** The file-writing part: a `put` call with the content as a here-document per file. */
function putLines(f: NodeFile, sha: string): string[] {
  return [`put ${q(f.path)} ${q(f.mode.toString(8))} ${q(sha)} <<'K8S_HA_BASE64'`, base64Lines(f.content), 'K8S_HA_BASE64'];
}

/**
 * The steering part of a holder's script ({@link canSteer}): `lb_healthy` (on the node's
 * address while steering: loopback then reaches the apiserver), `try_steer` (checks nft and
 * forwarding, then installs {@link steerRuleset} for the first peer, in plan order, whose
 * HAProxy answers /healthz), `unsteer`, and the detection of rules a failed run left.
 * Peers: the running control-plane nodes other than `node` (`s.apiservers`).
 */
function steerLines(plan: Plan, node: PlanNode, s: ScriptStep): string[] {
  const running = s.apiservers ?? plan.nodes.filter((n) => n.vrrp !== undefined).map((n) => n.address);
  const peers = plan.nodes.filter((n) => n.vrrp !== undefined && n.name !== node.name && running.includes(n.address));
  const families = vrrpFamilies(plan).map((f) => f.family);
  const tables = families.map(nftFamily);
  const url = (n: PlanNode) => `https://${hostPort(n.address, plan.vip.port)}/healthz`;
  const nftLines = (text: string) => [...text.trimEnd().split('\n'), 'K8S_HA_NFT'];
  const table = `${tables.join('/')} ${STEER_TABLE}`;
  return [
    `node_lb_url=${q(url(node))}`,
    `steer_tables=${q(tables.join(' '))}`,
    'steering=0',
    '# lb_healthy: the local frontend answers /healthz. While steering, loopback on that port',
    '# reaches this node\'s apiserver (for keepalived\'s check): ask on the node\'s address instead.',
    'lb_healthy() {',
    '  url=$lb_url',
    '  if [ "$steering" = 1 ]; then url=$node_lb_url; fi',
    '  curl --silent --fail --insecure --max-time 2 --output /dev/null "$url"',
    '}',
    'peer_healthy() { curl --silent --fail --insecure --max-time 2 --output /dev/null "$1"; }',
    '# try_steer: new connections to the VIPs go to a healthy peer\'s HAProxy (nftables DNAT +',
    '# masquerade) while this node\'s HAProxy restarts, so the VIP need not move; false, saying why, when',
    '# that is not possible (the caller drains instead): no nft, no forwarding, a firewall that drops',
    '# forwarded packets by default, or no healthy peer.',
    'try_steer() {',
    '  if [ "${K8S_HA_STEER:-1}" = 0 ]; then log "not steering: K8S_HA_STEER=0"; return 1; fi',
    '  if ! command -v nft > /dev/null 2>&1; then log "not steering: nft (nftables) is not installed"; return 1; fi',
    ...families.map((f) => {
      const [path, name] = f === 4 ? ['/proc/sys/net/ipv4/ip_forward', 'net.ipv4.ip_forward'] : ['/proc/sys/net/ipv6/conf/all/forwarding', 'net.ipv6.conf.all.forwarding'];
      return `  if [ "$(cat ${path} 2>/dev/null)" != 1 ]; then log "not steering: ${name} is not 1 (kubeadm's preflight requires it; this node cannot forward)"; return 1; fi`;
    }),
    // A firewall that drops forwarded packets by default would drop the steered ones: a
    // forward chain with policy drop (nftables, or iptables' FORWARD policy, as Docker sets it).
    '  if nft list chains 2>/dev/null | grep -q \'hook forward .*policy drop\'; then log "not steering: an nftables forward chain drops by default (nft list chains)"; return 1; fi',
    ...tables.map((t) => {
      const cmd = t === 'ip' ? 'iptables' : 'ip6tables';
      return `  if command -v ${cmd} > /dev/null 2>&1 && ${cmd} -S FORWARD 2>/dev/null | grep -q '^-P FORWARD DROP'; then log "not steering: the ${cmd} FORWARD policy is DROP"; return 1; fi`;
    }),
    ...peers.flatMap((p) => [
      `  if peer_healthy ${q(url(p))}; then`,
      '    if nft -f - <<\'K8S_HA_NFT\'',
      ...nftLines(steerRuleset(plan, node, p)),
      '    then',
      '      steering=1',
      `      log ${q(`steering new connections to the VIPs to ${p.name} (${p.address}) with nftables table ${table} while HAProxy restarts here, the VIP stays`)}`,
      '      return 0',
      '    fi',
      `    log ${q(`not steering: nft refused table ${table}`)}`,
      '    return 1',
      '  fi',
    ]),
    `  log ${q(`not steering: no peer HAProxy answers /healthz (${peers.map((p) => p.name).join(', ') || 'no running peer'})`)}`,
    '  return 1',
    '}',
    '# unsteer: removes the steering rules; the tables stay with their NAT chains and a rule that uses',
    '# conntrack, so that the kernel keeps translating the connections steered so far.',
    'unsteer() {',
    '  [ "$steering" = 1 ] || return 0',
    '  nft -f - <<\'K8S_HA_NFT\' || die "cannot remove the steering rules (see: nft list ruleset)"',
    ...nftLines(steerRuleset(plan, node, undefined)),
    '  steering=0',
    `  log ${q(`stopped steering: new connections to the VIPs go to the local HAProxy again (table ${table} stays, without them)`)}`,
    '}',
    '# Rules left by a run that failed while steering: go on steering until HAProxy answers here.',
    'for t in $steer_tables; do',
    `  if command -v nft > /dev/null 2>&1 && nft list table "$t" ${STEER_TABLE} 2>/dev/null | grep -q 'dnat to'; then`,
    '    steering=1',
    '  fi',
    'done',
    'if [ "$steering" = 1 ]; then log "found steering rules of an earlier run: they go once HAProxy answers here"; fi',
  ];
}

/**
 * The update script of `node` for one rollout step (see the module comment).
 * @throws Error when a value is not safe to embed (never for a loaded profile).
 */
export function updateScript(plan: Plan, node: PlanNode, s: ScriptStep): string {
  const sha = (f: NodeFile) => createHash('sha256').update(f.content, 'utf8').digest('hex');
  const lb = plan.family === 4 ? '127.0.0.1' : '::1';
  const apiservers = (s.apiservers ?? plan.nodes.filter((n) => n.vrrp !== undefined).map((n) => n.address)).map((a) => hostPort(a, plan.kubernetes.apiServerPort));
  const checks = s.writes.map((f) => `needs ${q(f.path)} ${q(f.mode.toString(8))} ${q(sha(f))}`);
  const body: string[] = [];
  // The running keepalived runs the check script from the host directory at each interval: the
  // new one (which honours the drain file) is written once, before the drain and the rest.
  const newCheck = s.writes.find((f) => f.path === CHECK_SCRIPT);
  const steer = canSteer(plan, s);
  for (const f of s.writes.filter((x) => x !== newCheck)) {
    body.push(...putLines(f, sha(f)));
    const pod = podOf(f.path);
    const hash = manifestHash(f);
    if (pod !== undefined && hash !== undefined) {
      body.push(`wait_until ${q(`${pod} pod ready with config ${hash.slice(0, 19)}`)} pod_ready ${q(pod)} ${q(hash)}`);
      if (pod === 'haproxy') {
        body.push(`wait_until 'HAProxy answering /healthz on the local frontend' lb_healthy`);
        if (steer) body.push('unsteer');
        body.push(`wait_until 'every running apiserver answering /healthz' backends_healthy`);
      }
    }
  }
  for (const p of [...s.deletes].sort((a, b) => Number(podOf(b) !== undefined) - Number(podOf(a) !== undefined))) body.push(`remove ${q(p)}`);

  return [
    '#!/bin/sh',
    `# k8s-ha rollout of cluster ${plan.name}: update node ${node.name} (${node.address}), step ${s.step} of ${s.of}${s.last ? ', the last update step' : ''}.`,
    '# Generated by `k8s-ha rollout`; do not edit. Run it as root on the node:',
    `#   ssh root@${node.address} sh -s < update-${node.name}.sh`,
    '# Idempotent: files already in their new state are left alone; a second run only waits.',
    '# Each file is written to a hidden temporary file beside it, checked against its SHA-256,',
    '# then renamed over the old one. It holds configs with secrets: keep it 0700, delete it after.',
    '# Environment: K8S_HA_ROOT=DIR writes under DIR instead of / (tests); K8S_HA_WAIT=0 skips the',
    '# waits, K8S_HA_WAIT_SECONDS=N (default 300) bounds each; K8S_HA_FORCE=1 runs a step that is',
    '# not the last on a VIP holder; K8S_HA_DRAIN_SECONDS=N bounds the wait for the VIPs to leave',
    `# a drained holder (default ${drainSeconds(plan)}, from the profile's check and advert timing).`,
    ...(steer ? ['# K8S_HA_STEER=0 drains the VIP holder instead of steering its new connections to a peer.'] : []),
    'set -eu',
    '',
    'root=${K8S_HA_ROOT:-}',
    `node=${q(node.name)}`,
    `last=${s.last ? 1 : 0}`,
    `vips=${q(plan.vip.addresses.join(' ').replace(/ /g, ','))}`,
    `lb_url=${q(`https://${hostPort(lb, plan.vip.port)}/healthz`)}`,
    `apiservers=${q(apiservers.join(','))}`,
    `drain=${q(DRAIN_FILE)}`,
    `drain_seconds=${q(drainSeconds(plan))}`,
    'tmp=',
    'trap \'[ -z "$tmp" ] || rm -f "$tmp"\' EXIT',
    '',
    'log() { printf \'k8s-ha update %s: %s\\n\' "$node" "$*" >&2; }',
    'die() { log "error: $*"; exit 1; }',
    '',
    '# Whether this node has one of the VIPs on an interface.',
    'holds_vip() {',
    '  for v in $(printf %s "$vips" | tr , " "); do',
    '    if [ -n "$(ip -o addr show to "$v" 2>/dev/null)" ]; then return 0; fi',
    '  done',
    '  return 1',
    '}',
    'not_holder() { ! holds_vip; }',
    '',
    'sum_of() { sha256sum < "$1" | cut -d " " -f 1; }',
    '',
    '# needs PATH MODE SHA256: true when PATH (under $root) is not yet that content with that mode.',
    'needs() {',
    '  [ ! -f "$root$1" ] || [ "$(sum_of "$root$1")" != "$3" ] || [ "$(stat -c %a "$root$1")" != "$2" ]',
    '}',
    '',
    '# put PATH MODE SHA256: base64 on stdin becomes PATH (under $root), atomically, unless it is already.',
    'put() {',
    '  if ! needs "$1" "$2" "$3"; then',
    '    cat > /dev/null',
    '    log "unchanged $1"',
    '    return 0',
    '  fi',
    '  dir=$(dirname "$root$1")',
    '  mkdir -p "$dir"',
    '  tmp=$(mktemp "$dir/.$(basename "$1").k8s-ha.XXXXXX")',
    '  base64 -d > "$tmp" || die "cannot decode the new $1"',
    '  chmod "$2" "$tmp"',
    '  [ "$(sum_of "$tmp")" = "$3" ] || die "the new $1 does not have sha256 $3"',
    '  mv -f "$tmp" "$root$1"',
    '  tmp=',
    '  log "updated $1"',
    '}',
    '',
    'remove() {',
    '  if [ -e "$root$1" ]; then rm -f "$root$1"; log "removed $1"; fi',
    '}',
    '',
    '# wait_until DESCRIPTION COMMAND...: runs COMMAND every 2 s until it succeeds, for at most',
    '# K8S_HA_WAIT_SECONDS (default 300).',
    'wait_until() { wait_within "${K8S_HA_WAIT_SECONDS:-300}" "$@"; }',
    '# wait_within SECONDS DESCRIPTION COMMAND...: the same with its own bound.',
    'wait_within() {',
    '  limit=$1',
    '  what=$2',
    '  shift 2',
    '  if [ "${K8S_HA_WAIT:-1}" = 0 ]; then log "not waiting for $what (K8S_HA_WAIT=0)"; return 0; fi',
    '  waited=0',
    '  until "$@"; do',
    '    [ "$waited" -lt "$limit" ] || die "gave up after $waited s waiting for $what"',
    '    sleep 2',
    '    waited=$((waited + 2))',
    '  done',
    '  log "ok: $what"',
    '}',
    '',
    '# pod_ready POD HASH: the static pod POD-<node> is ready and carries config hash HASH (kubelet',
    '# copies a pod\'s annotations to its sandbox; the JSON layout varies, the 64 hex digits do not).',
    'pod_ready() {',
    '  crictl pods --state ready --name "^$1-$node\\$" -o json 2>/dev/null | grep -qF -- "$2"',
    '}',
    ...(steer ? steerLines(plan, node, s) : ['lb_healthy() { curl --silent --fail --insecure --max-time 2 --output /dev/null "$lb_url"; }']),
    'backends_healthy() {',
    '  for a in $(printf %s "$apiservers" | tr , " "); do',
    '    curl --silent --fail --insecure --max-time 2 --output /dev/null "https://$a/healthz" || return 1',
    '  done',
    '}',
    '',
    '# Anything to change here? (A second run finds nothing and only waits.)',
    'pending=0',
    ...checks.map((c) => `if ${c}; then pending=1; fi`),
    '',
    'draining=0',
    'if [ "$pending" = 1 ] && holds_vip; then',
    '  if [ "$last" = 0 ] && [ "${K8S_HA_FORCE:-0}" != 1 ]; then',
    '    die "this node holds a VIP: update the other nodes first and this one last (k8s-ha rollout prints the order); K8S_HA_FORCE=1 overrides"',
    '  fi',
    steer ? '  if ! try_steer; then draining=1; fi' : '  draining=1',
    'fi',
    ...(newCheck ? putLines(newCheck, sha(newCheck)) : []),
    'if [ "$draining" = 1 ]; then',
    '  log "holds a VIP: draining (the check script fails while $drain exists) so that the VIP moves to an updated node first"',
    '  mkdir -p "$(dirname "$root$drain")"',
    '  : > "$root$drain"',
    '  wait_within "${K8S_HA_DRAIN_SECONDS:-$drain_seconds}" "the VIP to move to another node (is a peer healthy? the drain file stays until a run completes)" not_holder',
    'fi',
    '',
    ...body,
    ...(steer ? ['unsteer'] : []),
    '# Undrain: the check script passes again and this node may take the VIPs back.',
    'if [ -e "$root$drain" ]; then rm -f "$root$drain"; log "removed the drain file $drain"; fi',
    'log "done: step ' + String(s.step) + ' of ' + String(s.of) + '"',
    '',
  ].join('\n');
}

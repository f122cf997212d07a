/**
 * Turns a structurally valid profile into a {@link Plan}: applies defaults, checks the rules
 * that span several fields, and resolves every per-node fact (VRRP state, priority, peers).
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { DEFAULT_BOOT_MODE, type Family, type Hook, type NodeBootSettings, type NodeRole, type Plan, type PlanNode } from '../model.js';
import { error, warning, type FieldPath, type Problem } from './errors.js';
import type { ProfileEnv } from './load.js';
import type { RawProfile } from './schema.js';
import { AUTH_PASS, bracketIp, ipFamily, normalMac, parseAddressWithPrefix, staticNetworkProblem } from './values.js';
import { RULE_SOURCES, hostPortProblem, isValidCertSAN, isValidNodeName, networkingProblems } from './kubeadm-rules.js';
import { failoverTimesMs, SLOW_FAILOVER_MS, skewMs } from './vrrp.js';

/** Defaults applied when the profile leaves a field out, with where each comes from. */
export const DEFAULTS = {
  /** kubeadm's HA guide (shared/reference/kubeadm-ha-considerations.md). */
  keepalivedImage: 'osixia/keepalived:2.0.20',
  /** The VIP watch sidecar's image (components/vip-watch.ts): busybox carries arping and ip. */
  vipWatchImage: 'busybox:1.36.1',
  /** kubeadm's HA guide; 2.8 is an HAProxy LTS branch. */
  haproxyImage: 'haproxy:2.8',
  /** kube-apiserver's default secure port. */
  apiServerPort: 6443,
  /** kubeadm's docs use 8443 for a load-balanced endpoint; never 6443 (apiserver's port). */
  vipPort: 8443,
  /** keepalived's own default advert_int, seconds. */
  advertInterval: 1,
  /**
   * VRRPv2: the first node gets priority 150, each next one 10 less, so backups' skews
   * ((256 - priority)/256 s) differ by 39 ms and never time out together.
   */
  topPriority: 150,
  priorityStep: 10,
  /**
   * VRRPv3 scales the skew by advert_int ((256 - priority) x advert_int / 256): at 0.2 s a step
   * of 10 leaves backups only 7.8 ms apart, and the HA lab saw two of them take the VIP at once.
   * So v3 defaults spread the priorities from 250 down to 10 (250/130/10 for three nodes:
   * 94 ms apart at 0.2 s).
   */
  v3TopPriority: 250,
  v3LowestPriority: 10,
  /**
   * Track script: run every 1 s, curl gives up after 1 s, one failure moves the VIP, two
   * successes restore it. With advert_int 1 s a backup takes over 3 x 1 s + skew (~3.6 s)
   * after the master's priority drops (keepalived vrrp.c: lower-priority adverts are
   * discarded until the master-down timer fires), so a dead HAProxy moves the VIP in < 5 s.
   * kubeadm's guide (interval 3, fall 10) waits ~30 s.
   */
  check: { interval: 1, timeout: 1, fall: 1, rise: 2 },
  /** HAProxy: health check every 1 s, connect timeout 500 ms, idle timeout 1 h. */
  haproxyCheckIntervalMs: 1000,
  haproxyConnectTimeoutMs: 500,
  haproxyIdleTimeoutS: 3600,
  /** kubeadm's bootstrap token TTL default (bootstraptoken/v1 defaults: 24h). */
  tokenTTL: '24h',
  /**
   * Service subnets by family. IPv4: kubeadm's own default (v1beta3/v1beta4 defaults.go
   * DefaultServicesSubnet), so IPv4 profiles need no `networking`. IPv6: kubeadm has none (it
   * would use the IPv4 one, and kube-apiserver refuses an IPv6 advertise address with it), so
   * k8s-ha takes kind's fd00:10:96::/112 (a ULA /112: 65536 addresses, inside kubeadm's /108
   * limit). Dual stack: both, the nodes' primary family first.
   */
  serviceSubnet: { 4: '10.96.0.0/12', 6: 'fd00:10:96::/112' },
} as const;

/** kubeadm's default networking.serviceSubnet (defaults.go DefaultServicesSubnet); k8s-ha leaves it out of the config. */
export const KUBEADM_DEFAULT_SERVICE_SUBNET = '10.96.0.0/12';

/** keepalived's weight range for vrrp_script (keepalived.conf(5): -253..253). */
const MAX_WEIGHT = 253;

/**
 * Resolves a validated profile. Returns the plan (undefined when errors were found) and all
 * problems, errors and warnings alike, so the caller can report every one at once.
 * @param source absolute path of the profile (kept in the plan for messages).
 * @param authPassPath where `raw.keepalived.authPass` came from, for its problems: the key
 *   itself, or `keepalived.authPassFile` when load.ts read it from that file.
 */
export function resolvePlan(
  source: string,
  raw: RawProfile,
  env: ProfileEnv,
  authPassPath: FieldPath = ['keepalived', 'authPass'],
): { plan?: Plan; problems: Problem[] } {
  const problems: Problem[] = [];

  // Address family: one per profile, the one most of its addresses have (the first VIP's on a
  // tie), so a single stray address is the one reported, even when it is the first VIP.
  const addresses = [...raw.vip.addresses, ...[...raw.nodes, ...(raw.workers ?? [])].map((n) => n.address.split('/')[0]!)];
  const sixes = addresses.filter((a) => ipFamily(a) === 6).length;
  const family: Family = sixes * 2 === addresses.length ? (ipFamily(raw.vip.addresses[0]!) as Family) : sixes * 2 > addresses.length ? 6 : 4;
  const other: Family = family === 4 ? 6 : 4;
  // Dual stack: nodes carry a secondaryAddress of the other family (kubelet node-ip lists both).
  const dualStack = [...raw.nodes, ...(raw.workers ?? [])].some((n) => n.secondaryAddress !== undefined);
  const canon = (a: string) => ipaddr.parse(a).toString();
  const vips = raw.vip.addresses.map(canon);
  raw.vip.addresses.forEach((a, i) => {
    if (ipFamily(a) !== family && !dualStack)
      problems.push(error('E_FAMILY', ['vip', 'addresses', i], `"${a}" is IPv${ipFamily(a)} but the profile's other addresses are IPv${family}`, 'make every VIP and node address the same family, or go dual stack: give every node a secondaryAddress of the other family'));
  });
  dupes(vips).forEach(([i, j]) => problems.push(error('E_DUPLICATE', ['vip', 'addresses', j], `VIP ${vips[j]} repeats vip.addresses[${i}]`)));

  // Parses every host's address (`addr` or `addr/prefix`, validated by the schema) and flags
  // the ones of the other family.
  const hosts = <T extends { name: string; address: string; secondaryAddress?: string | undefined }>(list: T[], key: 'nodes' | 'workers') =>
    list.map((h, i) => {
      const parsed = parseAddressWithPrefix(h.address)!;
      if (parsed.family !== family)
        problems.push(error('E_FAMILY', [key, i, 'address'], `"${h.address}" is IPv${parsed.family} but the profile's other addresses are IPv${family}`, 'every node\'s address is of one family; a dual-stack node\'s other address goes in secondaryAddress'));
      let secondary: { address: string; prefix?: number | undefined } | undefined;
      if (h.secondaryAddress !== undefined) {
        const s = parseAddressWithPrefix(h.secondaryAddress)!;
        if (s.family !== other)
          problems.push(error('E_FAMILY', [key, i, 'secondaryAddress'], `"${h.secondaryAddress}" is IPv${s.family} like the node's address; secondaryAddress is its IPv${other} address`, RULE_SOURCES.dualStack));
        secondary = { address: canon(s.address), prefix: s.prefix };
      } else if (dualStack) {
        problems.push(error('E_FAMILY', [key, i, 'address'], `${h.name} has no secondaryAddress, but other nodes do: dual stack needs an IPv${other} address on every node`, RULE_SOURCES.dualStack));
      }
      return { raw: h, address: canon(parsed.address), prefix: parsed.prefix, family: parsed.family, secondary };
    });
  const nodes = hosts(raw.nodes, 'nodes');
  const workers = hosts(raw.workers ?? [], 'workers');
  // Names and addresses are unique across control-plane nodes and workers alike.
  const where = (j: number): (string | number)[] => (j < nodes.length ? ['nodes', j] : ['workers', j - nodes.length]);
  const all = [...nodes, ...workers];
  dupes(all.map((n) => n.raw.name)).forEach(([i, j]) =>
    problems.push(error('E_DUPLICATE', [...where(j), 'name'], `duplicate node name "${all[j]!.raw.name}" (also ${where(i).join('.')})`, 'node names become hostnames and HAProxy server names: each must be unique')),
  );
  const macs = all.map((n, j) => (n.raw.mac === undefined ? `(none ${j})` : normalMac(n.raw.mac)));
  dupes(macs).forEach(([i, j]) =>
    problems.push(error('E_DUPLICATE', [...where(j), 'mac'], `MAC ${macs[j]} is also the MAC of ${where(i).join('.')}`, 'every node needs its own MAC: DHCP, iPXE and Matchbox tell nodes apart by it')),
  );
  dupes(all.map((n) => n.address)).forEach(([i, j]) =>
    problems.push(error('E_DUPLICATE', [...where(j), 'address'], `duplicate node address ${all[j]!.address} (also ${where(i).join('.')})`)),
  );
  all.forEach((h, j) => {
    const vi = vips.indexOf(h.address);
    if (vi >= 0)
      problems.push(error('E_VIP_IS_NODE', [...where(j), 'address'], `node address ${h.address} is also vip.addresses[${vi}]`, 'a VIP must be a free address in the nodes\' subnet, not a node\'s own'));
    const si = h.secondary ? vips.indexOf(h.secondary.address) : -1;
    if (si >= 0)
      problems.push(error('E_VIP_IS_NODE', [...where(j), 'secondaryAddress'], `node address ${h.secondary!.address} is also vip.addresses[${si}]`, 'a VIP must be a free address in the nodes\' subnet, not a node\'s own'));
  });
  dupes(all.map((n, j) => n.secondary?.address ?? `(none ${j})`)).forEach(([i, j]) =>
    problems.push(error('E_DUPLICATE', [...where(j), 'secondaryAddress'], `duplicate node address ${all[j]!.secondary!.address} (also ${where(i).join('.')})`)),
  );
  // Static network settings (gateway, dns) go into NoCloud network-config and `ip=` kernel
  // arguments (bundle, seed): they need the node's prefix and a gateway on its subnet.
  all.forEach((h, j) => {
    const p = staticNetworkProblem(h.address, h.prefix, h.raw.gateway, h.raw.dns, h.secondary);
    if (p) problems.push(error('E_NETWORK', [...where(j), p.field], p.message, p.hint));
  });
  const reserved = new Set<number>();
  nodes.forEach((n) => {
    for (const a of [{ address: n.address, prefix: n.prefix }, ...(n.secondary ? [n.secondary] : [])]) {
      const prefix = a.prefix;
      if (prefix === undefined || ipFamily(a.address) === undefined) continue;
      const net = ipaddr.parseCIDR(`${a.address}/${prefix}`);
      vips.forEach((v, k) => {
        if (ipFamily(v) !== ipFamily(a.address)) return;
        if (!ipaddr.parse(v).match(net))
          problems.push(error('E_VIP_SUBNET', ['vip', 'addresses', k], `VIP ${v} is outside node ${n.raw.name}'s subnet ${a.address}/${a.prefix}`, 'VRRP moves the VIP on one L2 segment: it must be in the nodes\' subnet'));
        const what = reservedAddress(v, a.address, prefix);
        if (what !== undefined && !reserved.has(k)) {
          reserved.add(k);
          problems.push(error('E_VIP_RESERVED', ['vip', 'addresses', k], `VIP ${v} is the ${what} of the nodes' subnet ${(ipFamily(a.address) === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(`${a.address}/${a.prefix}`).toString()}/${a.prefix}`, 'pick a free host address inside the subnet: hosts do not answer ARP/ND for the network or broadcast address'));
        }
      });
    }
  });
  // Without a prefix there is no subnet to check the VIP against: say so once.
  const bare = nodes.findIndex((n) => n.prefix === undefined);
  if (bare >= 0)
    problems.push(warning('W_NO_PREFIX', ['nodes', bare, 'address'], `${nodes.filter((n) => n.prefix === undefined).length === 1 ? 'this address has' : `${nodes.filter((n) => n.prefix === undefined).length} control-plane addresses have`} no prefix length, so the subnet checks are off (VIP inside the nodes' subnet, not its network or broadcast address)`, `write the address with its prefix length, e.g. ${nodes[bare]!.address}/${family === 4 ? 24 : 64}`));

  // Ports.
  const apiServerPort = raw.kubernetes.apiServerPort ?? DEFAULTS.apiServerPort;
  const vipPort = raw.vip.port ?? DEFAULTS.vipPort;
  if (vipPort === apiServerPort)
    problems.push(error('E_PORT_CLASH', raw.vip.port === undefined ? ['kubernetes', 'apiServerPort'] : ['vip', 'port'], `vip.port and kubernetes.apiServerPort are both ${vipPort}`, 'HAProxy runs on every control-plane node next to the apiserver: use another port for the VIP (7443, 8443, 16443); kubeadm init fails with [ERROR Port-6443] otherwise'));

  // Interfaces: every node needs one.
  nodes.forEach((n, i) => {
    if (n.raw.interface === undefined && raw.vip.interface === undefined)
      problems.push(error('E_INTERFACE', ['nodes', i, 'interface'], `node ${n.raw.name} has no interface and vip.interface is not set`, 'set vip.interface (the NIC carrying the VIP, e.g. eth0) or nodes[].interface'));
  });

  // keepalived timing and version.
  const advertInterval = raw.keepalived?.advertInterval ?? DEFAULTS.advertInterval;
  // IPv6 VIPs need VRRPv3; with dual-stack VIPs both instances run it (one global vrrp_version).
  const v3 = vips.some((v) => ipFamily(v) === 6) || advertInterval < 1 || !Number.isInteger(advertInterval);
  if (v3 && (advertInterval > 40.95 || Math.abs(Math.round(advertInterval * 100) - advertInterval * 100) > 1e-9))
    problems.push(error('E_ADVERT', ['keepalived', 'advertInterval'], `VRRP version 3 takes advert_int in steps of 0.01 s up to 40.95 s, got ${advertInterval}`, 'keepalived needs vrrp_version 3 for IPv6 and sub-second intervals (RFC 5798 centiseconds, 12 bits)'));

  const envPass = env.K8S_HA_AUTH_PASS;
  let authPass: string | undefined = raw.keepalived?.authPass;
  let passPath = authPassPath;
  if (envPass !== undefined && envPass !== '') {
    passPath = ['keepalived', 'authPass'];
    if (!AUTH_PASS.test(envPass))
      problems.push(error('E_AUTH_PASS', ['keepalived', 'authPass'], 'K8S_HA_AUTH_PASS must be 1-8 characters of A-Z a-z 0-9 _ . , : ; @ % + = * ^ ~ / - (value not shown)', 'keepalived keeps only 8 characters of auth_pass (VRRP_AUTH_LEN in vrrp.h) and its config test fails on more'));
    authPass = envPass;
  }
  if (authPass !== undefined && v3) {
    problems.push(warning('W_AUTH_IGNORED', passPath, 'authPass is ignored: VRRP version 3 (IPv6 or sub-second advertInterval) has no authentication', 'keepalived -t fails with an authentication block in a VRRPv3 instance'));
    authPass = undefined;
  }
  if (authPass !== undefined)
    problems.push(warning('W_PLAINTEXT_AUTH', passPath, 'VRRP PASS authentication is sent in plain text (RFC 3768 removed it); it only guards against accidental cross-talk', 'use a unique vip.routerId per L2 segment as well'));

  // Priorities: explicit ones kept; a missing one is `step` below the node before it (the
  // first: the top), so one explicit priority does not clash with defaults the user never wrote.
  const [top, step] = v3
    ? [DEFAULTS.v3TopPriority, Math.floor((DEFAULTS.v3TopPriority - DEFAULTS.v3LowestPriority) / Math.max(1, nodes.length - 1))]
    : [DEFAULTS.topPriority, DEFAULTS.priorityStep];
  const priorities: number[] = [];
  nodes.forEach((n, i) => priorities.push(n.raw.priority ?? (i === 0 ? top : Math.max(1, priorities[i - 1]! - step))));
  dupes(priorities).forEach(([i, j]) =>
    problems.push(error('E_PRIORITY', ['nodes', j, 'priority'], `priority ${priorities[j]} of ${nodes[j]!.raw.name} equals that of ${nodes[i]!.raw.name}`, 'give every node a distinct priority so the election is deterministic')),
  );
  priorities.forEach((p, i) => {
    if (i > 0 && p >= priorities[0]!)
      problems.push(error('E_PRIORITY', ['nodes', i, 'priority'], `priority ${p} is not below the MASTER's (${nodes[0]!.raw.name}: ${priorities[0]})`, 'the first node is the initial MASTER and must have the highest priority'));
  });
  const spread = Math.max(...priorities) - Math.min(...priorities);
  const sorted = [...priorities].sort((a, b) => b - a);
  // The two closest priorities, and how far apart their skews are: the skew is linear in the
  // priority, so that is their difference times the skew of one priority step (priority 255).
  const closest = Math.min(...sorted.slice(1).map((p, i) => sorted[i]! - p));
  const skewGapMs = closest * skewMs(255, advertInterval, v3 ? 3 : 2);
  if (skewGapMs < 20)
    problems.push(warning('W_SKEW_GAP', ['nodes'], `the closest two priorities (${closest} apart) give skews only ${skewGapMs.toFixed(1)} ms apart: two BACKUPs may take the VIP at once when the MASTER dies`, 'spread the priorities further apart (skew = (256 - priority) x advert_int / 256 with VRRPv3), or leave them out to get spread defaults'));
  const weight = -Math.min(MAX_WEIGHT, spread + 10);
  if (spread >= MAX_WEIGHT)
    problems.push(error('E_PRIORITY', ['nodes'], `priorities span ${spread}, more than keepalived's largest track weight (${MAX_WEIGHT}) can bridge`, 'keep priorities within 250 of each other'));

  // What the timing promises (the lab's bounds come from the same function, lab/bounds.ts).
  if (nodes.length > 1) {
    const track = { ...DEFAULTS.check, ...raw.keepalived?.check };
    const times = failoverTimesMs({ advertInterval, vrrpVersion: v3 ? 3 : 2, track, trackProcess: raw.keepalived?.trackProcess ?? false }, Math.max(...priorities.slice(1)));
    const slow = ([['holder power loss', times.holderPowerLoss], ['HAProxy death on the holder', times.haproxyDeath], ['graceful stop', times.gracefulStop]] as const).filter(([, ms]) => ms > SLOW_FAILOVER_MS);
    if (slow.length > 0) {
      const path = raw.keepalived?.check !== undefined && times.haproxyDeath > SLOW_FAILOVER_MS ? ['keepalived', 'check'] : raw.keepalived?.advertInterval !== undefined ? ['keepalived', 'advertInterval'] : ['keepalived'];
      problems.push(warning('W_SLOW_FAILOVER', path, `the VIP would be unreachable for ${slow.map(([what, ms]) => `${(ms / 1000).toFixed(1)} s after ${what}`).join(', ')} (over ${SLOW_FAILOVER_MS / 1000} s)`, `the track script needs check.fall x check.interval s (${track.fall} x ${track.interval} s) to notice a dead HAProxy, then 3 x advertInterval + skew; lower them (k8s-ha's defaults: interval 1, fall 1, advertInterval 1: under 5 s)`));
    }
  }

  // Ignition-only systems (Flatcar, Fedora CoreOS) ship no kubeadm or kubelet: the profile must
  // bring them, with a sysext image or a pre-kubeadm hook on every role that boots.
  // (With [install] on, E052 says the better thing: that [install] cannot work there.)
  if (raw.boot !== undefined && (raw.boot.os === 'flatcar' || raw.boot.os === 'fcos') && raw.kubernetes.sysext === undefined && raw.install?.enabled !== true) {
    const roles: NodeRole[] = ['init', ...(nodes.length > 1 ? ['control-plane' as const] : []), ...(workers.length > 0 ? ['worker' as const] : [])];
    const hooks = (raw.kubernetes.preKubeadmCommands ?? []).map(toHook);
    const bare = roles.filter((r) => !hooks.some((h) => h.roles.includes(r)));
    if (bare.length > 0)
      problems.push(error('E_NO_KUBERNETES', ['boot', 'os'], `${raw.boot.os === 'flatcar' ? 'Flatcar' : 'Fedora CoreOS'} has no kubeadm or kubelet, and nothing in the profile installs them on ${bare.join(', ')} nodes: they can never bootstrap`, 'add [kubernetes.sysext] (url and sha512 of a Kubernetes systemd-sysext image, e.g. from flatcar/sysext-bakery), or a preKubeadmCommands hook that installs kubeadm and kubelet'));
  }

  const routerId = raw.vip.routerId ?? defaultRouterId(raw.name);
  // One VRRP instance per VIP family (keepalived cannot mix families in one), the nodes'
  // primary family first; the second instance gets its own virtual_router_id.
  const vipFamilies = [family, other].filter((f) => vips.some((v) => ipFamily(v) === f));
  const secondaryRouterId = raw.vip.secondaryRouterId ?? nextRouterId(routerId);
  if (vipFamilies.length === 2 && secondaryRouterId === routerId)
    problems.push(error('E_DUPLICATE', ['vip', 'secondaryRouterId'], `secondaryRouterId ${secondaryRouterId} equals routerId`, 'each VRRP instance (one per VIP family) needs its own virtual_router_id'));
  if (vipFamilies.length === 2 && secondaryRouterId === 51)
    problems.push(warning('W_ROUTER_ID', ['vip', 'secondaryRouterId'], 'secondaryRouterId 51 is the most common default and collides easily with other VRRP routers on the segment', 'pick another virtual_router_id (1-255) unique on this L2 segment'));
  if (routerId === 51)
    problems.push(warning('W_ROUTER_ID', ['vip', 'routerId'], 'routerId 51 is the most common default and collides easily with other VRRP routers on the segment', 'pick another virtual_router_id (1-255) unique on this L2 segment'));
  if (nodes.length === 1)
    problems.push(warning('W_SINGLE_NODE', ['nodes'], 'a single control-plane node has no high availability', 'add two more nodes (etcd needs 3 for quorum with one failure)'));
  else if (nodes.length % 2 === 0)
    problems.push(warning('W_EVEN_NODES', ['nodes'], `${nodes.length} control-plane nodes tolerate no more failures than ${nodes.length - 1} for etcd quorum`, 'use an odd number of control-plane nodes'));

  if (raw.kubernetes.unsafeSkipCAVerification === true)
    problems.push(warning('W_UNSAFE_CA', ['kubernetes', 'unsafeSkipCAVerification'], 'joining nodes will not pin the cluster CA: anyone answering on the VIP can pose as the control plane', 'remove it: k8s-ha generates the CA and pins it on every joiner (caCertHashes)'));

  // Networking by family, checked with kubeadm's and kube-apiserver's rules (kubeadm-rules.ts).
  const serviceSubnet = raw.kubernetes.serviceSubnet ?? (dualStack ? `${DEFAULTS.serviceSubnet[family]},${DEFAULTS.serviceSubnet[other]}` : DEFAULTS.serviceSubnet[family]);
  if (!problems.some((p) => p.code === 'E_FAMILY'))
    problems.push(
      ...networkingProblems({
        primaryFamily: family,
        dualStack,
        serviceSubnet,
        serviceSubnetGiven: raw.kubernetes.serviceSubnet !== undefined,
        podSubnet: raw.kubernetes.podSubnet,
        hosts: all.map((h, j) => ({ name: h.raw.name, path: [...where(j), 'address'], controlPlane: j < nodes.length, address: h.address, prefix: h.prefix, secondary: h.secondary })),
        vips: vips.map((address, i) => ({ address, path: ['vip', 'addresses', i] })),
      }),
    );
  // A control-plane node booted live runs etcd on a tmpfs root: a power cut loses its member.
  if (raw.boot !== undefined) {
    raw.nodes.forEach((n, i) => {
      if ((n.boot?.mode ?? raw.boot!.mode ?? DEFAULT_BOOT_MODE) !== 'live') return;
      problems.push(warning('W_LIVE_CONTROL_PLANE', n.boot?.mode === undefined ? ['boot', 'mode'] : ['nodes', i, 'boot', 'mode'],
        `control-plane node ${n.name} boots live from RAM: its etcd data and kubelet state are lost at every power-off, and it comes back as a new member under an old name`,
        'mode = "install" (the default) installs the OS to boot.installDisk; keep live for throwaway clusters'));
    });
  }

  if (problems.some((p) => p.severity === 'error')) return { problems };

  // controlPlaneEndpoint: the DNS name if given, else the VIP of the nodes' primary family.
  const endpointHost = raw.kubernetes.controlPlaneEndpoint ?? vips.find((v) => ipFamily(v) === family) ?? vips[0]!;
  const planNodes: PlanNode[] = nodes.map((n, i) => {
    const node: PlanNode = {
      name: n.raw.name,
      index: i,
      role: i === 0 ? 'init' : 'control-plane',
      address: n.address,
      interface: n.raw.interface ?? raw.vip.interface!,
      vrrp: {
        state: i === 0 ? 'MASTER' : 'BACKUP',
        priority: priorities[i]!,
        peers: nodes.filter((_, j) => j !== i).map((o) => o.address),
      },
    };
    return withHostFacts(node, n, canon);
  });
  // Only the primary family's peers are kept in the plan: the secondary instance's come from
  // the nodes' secondaryAddress (components/keepalived.ts).
  workers.forEach((w, i) => {
    const node: PlanNode = { name: w.raw.name, index: nodes.length + i, role: 'worker', address: w.address, interface: w.raw.interface ?? raw.vip.interface ?? planNodes[0]!.interface };
    planNodes.push(withHostFacts(node, w, canon));
  });
  const check = { ...DEFAULTS.check, ...raw.keepalived?.check };
  const version = raw.kubernetes.version.startsWith('v') ? raw.kubernetes.version : `v${raw.kubernetes.version}`;
  const plan: Plan = {
    source,
    name: raw.name,
    family,
    vip: { addresses: vips, port: vipPort, interface: raw.vip.interface ?? planNodes[0]!.interface, routerId },
    keepalived: {
      advertInterval,
      vrrpVersion: v3 ? 3 : 2,
      vrrpPreflight: raw.keepalived?.vrrpPreflight ?? 'enforce',
      image: raw.keepalived?.image ?? DEFAULTS.keepalivedImage,
      track: { ...check, weight },
      trackProcess: raw.keepalived?.trackProcess ?? false,
      vipWatch: raw.keepalived?.vipWatch ?? 'on',
      vipWatchImage: raw.keepalived?.vipWatchImage ?? DEFAULTS.vipWatchImage,
    },
    haproxy: {
      image: raw.haproxy?.image ?? DEFAULTS.haproxyImage,
      checkIntervalMs: raw.haproxy?.checkInterval ?? DEFAULTS.haproxyCheckIntervalMs,
      connectTimeoutMs: raw.haproxy?.connectTimeout ?? DEFAULTS.haproxyConnectTimeoutMs,
      idleTimeoutS: raw.haproxy?.idleTimeout ?? DEFAULTS.haproxyIdleTimeoutS,
    },
    kubernetes: {
      version,
      apiServerPort,
      endpointHost,
      controlPlaneEndpoint: `${bracketIp(endpointHost)}:${vipPort}`,
      certSANs: unique([...vips, ...(raw.kubernetes.controlPlaneEndpoint ? [raw.kubernetes.controlPlaneEndpoint] : []), ...nodes.flatMap((n) => [n.address, ...(n.secondary ? [n.secondary.address] : [])])]),
      tokenTTL: raw.kubernetes.tokenTTL ?? DEFAULTS.tokenTTL,
      preKubeadmCommands: (raw.kubernetes.preKubeadmCommands ?? []).map(toHook),
      postKubeadmCommands: (raw.kubernetes.postKubeadmCommands ?? []).map(toHook),
      unsafeSkipCAVerification: raw.kubernetes.unsafeSkipCAVerification ?? false,
    },
    nodes: planNodes,
  };
  if (authPass !== undefined) plan.keepalived.authPass = authPass;
  if (raw.kubernetes.podSubnet !== undefined) plan.kubernetes.podSubnet = raw.kubernetes.podSubnet;
  // networking.serviceSubnet: whenever the profile gave one or the default differs from kubeadm's.
  if (raw.kubernetes.serviceSubnet !== undefined || serviceSubnet !== KUBEADM_DEFAULT_SERVICE_SUBNET) plan.kubernetes.serviceSubnet = serviceSubnet;
  if (dualStack) plan.secondaryFamily = other;
  if (vipFamilies.length === 2) plan.vip.secondaryRouterId = secondaryRouterId;
  const generated = kubeadmValueProblems(plan, raw.kubernetes.controlPlaneEndpoint !== undefined);
  if (generated.length > 0) return { problems: [...problems, ...generated] };
  if (raw.kubernetes.sysext !== undefined) plan.kubernetes.sysext = { ...raw.kubernetes.sysext };
  if (raw.kubernetes.caKey === 'deliver') plan.kubernetes.caKey = 'deliver';
  if (raw.boot !== undefined) plan.boot = { ...raw.boot, kernelArgs: raw.boot.kernelArgs ?? [] };
  if (raw.install?.enabled === true) plan.install = true;
  return { plan, problems };
}

/**
 * Whether `vip` is the network address (IPv4, or IPv6's Subnet-Router anycast, RFC 4291 2.6.1)
 * or the IPv4 broadcast address of `address/prefix`. /31, /32 (RFC 3021) and /127, /128 have
 * neither. Returns what it is, or undefined.
 */
export function reservedAddress(vip: string, address: string, prefix: number): 'network address' | 'broadcast address' | undefined {
  const v = ipaddr.parse(vip);
  const a = ipaddr.parse(address);
  if (v.kind() !== a.kind()) return undefined;
  if (v.kind() === 'ipv4') {
    if (prefix >= 31) return undefined;
    const n = ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`).toString();
    const b = ipaddr.IPv4.broadcastAddressFromCIDR(`${address}/${prefix}`).toString();
    return v.toString() === n ? 'network address' : v.toString() === b ? 'broadcast address' : undefined;
  }
  if (prefix >= 127) return undefined;
  return v.toString() === ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`).toString() ? 'network address' : undefined;
}

/** A profile hook as the plan keeps it: a bare line runs on every role. */
function toHook(h: string | { run: string; roles: NodeRole[] }): Hook {
  return typeof h === 'string' ? { run: h, roles: ['init', 'control-plane', 'worker'] } : { run: h.run, roles: unique(h.roles) };
}

/**
 * Default virtual_router_id when the profile gives none: derived from the cluster name
 * (SHA-256, mapped to 1..255, skipping 51), so two clusters on a segment rarely collide and
 * the same profile always gets the same id.
 */
export function defaultRouterId(name: string): number {
  const n = createHash('sha256').update(name).digest().readUInt16BE(0);
  const id = (n % 255) + 1;
  return id === 51 ? 52 : id;
}

/**
 * kubeadm's checks on values k8s-ha generates from the profile (kubeadm-rules.ts): the
 * controlPlaneEndpoint host:port, every certSAN, every node name. The schema's rules make them
 * hold already; this keeps kubeadm's own rules between a future schema change and a config
 * kubeadm refuses.
 * @param endpointGiven the profile set kubernetes.controlPlaneEndpoint (for the field path).
 */
export function kubeadmValueProblems(plan: Plan, endpointGiven: boolean): Problem[] {
  const problems: Problem[] = [];
  const k = plan.kubernetes;
  const endpointProblem = hostPortProblem(k.controlPlaneEndpoint);
  if (endpointProblem)
    problems.push(error('E_KUBEADM', endpointGiven ? ['kubernetes', 'controlPlaneEndpoint'] : ['vip', 'addresses', 0], `controlPlaneEndpoint ${k.controlPlaneEndpoint}: ${endpointProblem}`, RULE_SOURCES.hostPort));
  k.certSANs.forEach((san) => {
    if (!isValidCertSAN(san)) problems.push(error('E_KUBEADM', ['kubernetes', 'controlPlaneEndpoint'], `certSAN "${san}" is not a valid IP address, DNS label or a DNS label with subdomain wildcards`, RULE_SOURCES.certSANs));
  });
  plan.nodes.forEach((n, i) => {
    const path = i < plan.nodes.filter((x) => x.role !== 'worker').length ? ['nodes', i, 'name'] : ['workers', i - plan.nodes.filter((x) => x.role !== 'worker').length, 'name'];
    if (!isValidNodeName(n.name)) problems.push(error('E_KUBEADM', path, `node name "${n.name}" is not a lower-case DNS-1123 subdomain`, RULE_SOURCES.nodeName));
  });
  return problems;
}

/** Default virtual_router_id of the second VRRP instance (dual-stack VIPs): the next id after `id`, wrapping 255 to 1, skipping 51. */
export function nextRouterId(id: number): number {
  const next = (id % 255) + 1;
  return next === 51 ? 52 : next;
}

/** Copies the optional per-host facts (prefix, MAC in `aa:bb:..` form, gateway, DNS, secondary address, boot overrides) onto a plan node. */
function withHostFacts(
  node: PlanNode,
  src: { prefix?: number | undefined; secondary?: { address: string; prefix?: number | undefined } | undefined; raw: { mac?: string | undefined; gateway?: string | undefined; dns?: string[] | undefined; boot?: NodeBootSettings | undefined } },
  canon: (a: string) => string,
): PlanNode {
  if (src.raw.boot !== undefined) node.boot = { ...src.raw.boot };
  if (src.prefix !== undefined) node.prefix = src.prefix;
  if (src.secondary !== undefined) {
    node.secondaryAddress = src.secondary.address;
    if (src.secondary.prefix !== undefined) node.secondaryPrefix = src.secondary.prefix;
  }
  if (src.raw.mac !== undefined) node.mac = normalMac(src.raw.mac);
  if (src.raw.gateway !== undefined) node.gateway = canon(src.raw.gateway);
  if (src.raw.dns !== undefined) node.dns = src.raw.dns.map(canon);
  return node;
}

/** Pairs [first index, repeat index] of repeated values. */
function dupes<T>(xs: T[]): [number, number][] {
  const seen = new Map<T, number>();
  const out: [number, number][] = [];
  xs.forEach((x, j) => {
    const i = seen.get(x);
    if (i === undefined) seen.set(x, j);
    else out.push([i, j]);
  });
  return out;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

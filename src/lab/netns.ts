/**
 * The lab's isolated network: one network namespace per node, one for the client, and a
 * bridge in a namespace of its own, joined by veth pairs. Nothing is linked to the machine's
 * own network, so the profile's addresses only ever exist inside these namespaces.
 *
 * Every name starts with {@link PREFIX}; {@link removeStale} deletes what an earlier, killed
 * lab run left behind (its namespaces and every process still inside them).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { run } from './proc.js';
import { findExecutable } from '../system.js';

/** Prefix of every namespace the lab creates. */
export const PREFIX = 'k8sha-lab-';
const BRIDGE_NS = `${PREFIX}bridge`;
const CLIENT_NS = `${PREFIX}client`;

/** One node's place in the topology. */
export interface NetNode {
  name: string;
  /** Network namespace, e.g. `k8sha-lab-node0`. */
  ns: string;
  /** Interface name inside the namespace: the profile's `node.interface`. */
  iface: string;
  address: string;
  prefix: number;
}

/** The built topology. */
export interface Topology {
  nodes: NetNode[];
  client: { ns: string; iface: string; address: string };
}

/** Input of {@link buildTopology}: the nodes and the VIPs the client must reach. */
export interface TopologySpec {
  nodes: { name: string; address: string; prefix?: number; iface: string; secondary?: { address: string; prefix?: number } }[];
  vips: string[];
}

/** Namespaces with the lab's prefix that exist now. */
export async function labNamespaces(): Promise<string[]> {
  // `[{"name": ..., "id": ...}]`; no output at all when /run/netns does not exist.
  const out = await run(['ip', '-j', 'netns', 'list']);
  return (JSON.parse(out || '[]') as { name: string }[]).map((n) => n.name).filter((n) => n.startsWith(PREFIX));
}

/** Kills every process inside the lab's namespaces (SIGKILL) and deletes the namespaces. */
export async function removeStale(): Promise<void> {
  for (const ns of await labNamespaces()) {
    const pids = (await run(['ip', 'netns', 'pids', ns]).catch(() => '')).split('\n').filter(Boolean);
    for (const pid of pids) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
    }
    // Tolerate a namespace that vanished meanwhile (its last process exited).
    await run(['ip', 'netns', 'del', ns]).catch(async (e) => { if ((await labNamespaces()).includes(ns)) throw e; });
  }
}

/** Default prefix length when the profile gave none: /24 (IPv4) or /64 (IPv6). */
function defaultPrefix(address: string): number {
  return isIP(address) === 6 ? 64 : 24;
}

/**
 * Picks the client's address: the highest host address of the first node's subnet that is
 * neither a node address nor a VIP (so the client is on the nodes' L2 segment).
 * @throws Error when the subnet has no free address.
 */
export function clientAddress(spec: TopologySpec): { address: string; prefix: number } {
  const first = spec.nodes[0]!;
  const prefix = first.prefix ?? defaultPrefix(first.address);
  const taken = new Set([...spec.nodes.map((n) => n.address), ...spec.vips].map((a) => ipaddr.parse(a).toString()));
  const v4 = isIP(first.address) === 4;
  const last = (v4 ? ipaddr.IPv4 : ipaddr.IPv6).broadcastAddressFromCIDR(`${first.address}/${prefix}`).toByteArray();
  // Walk down from the last address of the subnet, at most 4096 addresses, skipping the IPv4
  // broadcast address and stopping before the network address. Only the last two bytes change:
  // with more than 4096 addresses in the subnet, the last one's low 12 bits are all ones.
  const hosts = 2 ** (last.length * 8 - prefix); // a float beyond 2^53, only compared with 4096
  const low = (last[last.length - 2]! << 8) | last[last.length - 1]!;
  for (let i = v4 ? 1 : 0; i < Math.min(hosts - 1, 4096); i++) {
    const text = ipaddr.fromByteArray([...last.slice(0, -2), (low - i) >> 8, (low - i) & 255]).toString();
    if (!taken.has(text)) return { address: text, prefix };
  }
  throw new Error(`no free address for the lab client in ${first.address}/${prefix}`);
}

const ip = (ns: string, ...args: string[]) => run(['ip', '-n', ns, ...args]);

/** Adds `address/prefix` to `iface` in `ns`; IPv6 without duplicate address detection, which would leave the address tentative (unusable) for a second. */
const addAddress = (ns: string, iface: string, address: string, prefix: number) =>
  ip(ns, 'addr', 'add', `${address}/${prefix}`, 'dev', iface, ...(isIP(address) === 6 ? ['nodad'] : []));

/**
 * Creates namespace `ns` and joins it to the lab's bridge: a veth pair, `port` on the bridge,
 * `iface` (up, with `address/prefix`) in `ns`. Call after {@link buildTopology} made the bridge.
 * @throws CommandError when a namespace or link cannot be made.
 */
export async function attachToBridge(ns: string, port: string, iface: string, address: string, prefix: number): Promise<void> {
  await run(['ip', 'netns', 'add', ns]);
  await ip(BRIDGE_NS, 'link', 'add', port, 'type', 'veth', 'peer', 'name', iface, 'netns', ns);
  await ip(BRIDGE_NS, 'link', 'set', port, 'master', 'br0', 'up');
  await ip(ns, 'link', 'set', 'lo', 'up');
  // Pulling the cable ({@link setLink}) must not lose the node's own IPv6 address: Linux
  // flushes IPv6 addresses on link down unless keep_addr_on_down is set (kernel
  // ip-sysctl.rst), while a real node keeps or reconfigures its address when the link returns.
  await run(['ip', 'netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/keep_addr_on_down']);
  await addAddress(ns, iface, address, prefix);
  await ip(ns, 'link', 'set', iface, 'up');
}

/**
 * Creates the namespaces, bridge and veth pairs, and assigns addresses. Node interfaces get
 * the profile's name and address/prefix; the client gets {@link clientAddress} plus a
 * link-scope route to every VIP (a VIP outside the node subnet is still reached on the L2).
 * Call {@link removeStale} afterwards, also on failure.
 */
export async function buildTopology(spec: TopologySpec): Promise<Topology> {
  await run(['ip', 'netns', 'add', BRIDGE_NS]);
  await ip(BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge');
  await ip(BRIDGE_NS, 'link', 'set', 'br0', 'up');
  const nodes: NetNode[] = [];
  for (const [i, n] of spec.nodes.entries()) {
    const node: NetNode = { name: n.name, ns: `${PREFIX}node${i}`, iface: n.iface, address: n.address, prefix: n.prefix ?? defaultPrefix(n.address) };
    await attachToBridge(node.ns, `n${i}`, node.iface, node.address, node.prefix);
    // A node forwards IPv4 as a kubeadm node does (kubeadm's preflight requires
    // net.ipv4.ip_forward = 1; [install] sets it: components/install.ts SYSCTLS); a new network
    // namespace starts with 0. A rollout's steering holder forwards (day2/script.ts).
    await run(['ip', 'netns', 'exec', node.ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    // Dual stack: the node's second address, and below one for the client in that subnet.
    if (n.secondary) await addAddress(node.ns, node.iface, n.secondary.address, n.secondary.prefix ?? defaultPrefix(n.secondary.address));
    nodes.push(node);
  }
  const c = clientAddress(spec);
  await attachToBridge(CLIENT_NS, 'c0', 'eth0', c.address, c.prefix);
  const secondaries = spec.nodes.flatMap((n) => (n.secondary ? [{ ...n, ...n.secondary }] : []));
  const c2 = secondaries.length === spec.nodes.length ? clientAddress({ nodes: secondaries, vips: spec.vips }) : undefined;
  if (c2) await addAddress(CLIENT_NS, 'eth0', c2.address, c2.prefix);
  for (const vip of spec.vips) await ip(CLIENT_NS, 'route', 'replace', vip, 'dev', 'eth0', 'scope', 'link');
  return { nodes, client: { ns: CLIENT_NS, iface: 'eth0', address: c.address } };
}


/** Sets a node's interface up or down (the lab's "pull the cable"). */
export async function setLink(node: NetNode, up: boolean): Promise<void> {
  await run(['ip', '-n', node.ns, 'link', 'set', node.iface, up ? 'up' : 'down']);
}

/**
 * Forgets the client's neighbour (ARP/NDP) entries of `addrs`, so that a scenario does not
 * inherit where the previous one left the client pointing (e.g. at the loser of a split brain).
 */
export async function flushNeighbours(topo: Topology, addrs: string[]): Promise<void> {
  for (const a of addrs) await run(['ip', '-n', topo.client.ns, 'neigh', 'flush', 'to', a]).catch(() => {});
}

/**
 * The nftables table {@link setVrrpBlocked} adds in a node's namespace: every VRRP packet in
 * and out, or (with `peers`, addresses the lab made) only those from and to them.
 */
function vrrpBlock(peers?: string[]): string {
  // One drop rule per peer address (its source on input, destination on output), or one for all.
  const rules = (dir: 'saddr' | 'daddr') => (peers ?? [undefined])
    .map((p) => `meta l4proto vrrp${p === undefined ? '' : ` ${isIP(p) === 6 ? 'ip6' : 'ip'} ${dir} ${p}`} drop;`).join(' ');
  return `table inet k8sha_lab {
  chain input { type filter hook input priority 0; ${rules('saddr')} }
  chain output { type filter hook output priority 0; ${rules('daddr')} }
}
`;
}

/**
 * Drops VRRP packets (IP protocol 112) in and out of the node's namespace (`on`): all of them,
 * or with `peers` only those from and to those addresses (a filter between two nodes); or
 * removes that rule again. nftables inside the namespace only.
 */
export async function setVrrpBlocked(node: NetNode, on: boolean, peers?: string[]): Promise<void> {
  const nft = await nftables();
  if (on) await run(['ip', 'netns', 'exec', node.ns, nft, '-f', '-'], { input: vrrpBlock(peers) });
  else await run(['ip', 'netns', 'exec', node.ns, nft, 'delete', 'table', 'inet', 'k8sha_lab']).catch(() => {});
}

/**
 * nftables' `nft`, looked up in the system's sbin and bin directories only: under `npm run` or
 * a test runner PATH starts with node_modules/.bin, where @vercel/nft (a dependency of ava)
 * installs a different `nft` that accepts the same arguments and blocks nothing.
 * @throws Error naming the package when it is not installed.
 */
async function nftables(): Promise<string> {
  const nft = await findExecutable('nft', SYSTEM_PATH);
  if (!nft) throw new Error('nft is not installed: apt-get install -y nftables');
  return nft;
}

/** Where Debian installs system programs. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Removes every address of `addrs` that is still configured on the node's interface:
 * what a reboot does to VIPs a SIGKILLed keepalived could not withdraw.
 */
export async function flushAddresses(node: NetNode, addrs: string[]): Promise<void> {
  const [link] = JSON.parse(await run(['ip', '-n', node.ns, '-j', 'addr', 'show', 'dev', node.iface])) as { addr_info: { local: string; prefixlen: number }[] }[];
  for (const a of addrs) {
    const found = link?.addr_info.find((i) => i.local === a);
    if (found) await run(['ip', '-n', node.ns, 'addr', 'del', `${a}/${found.prefixlen}`, 'dev', node.iface]);
  }
}

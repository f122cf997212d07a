/**
 * Link-layer facts the `heal-garp` scenario reads (issue #20 item 3), from iproute2's JSON
 * output (`ip -j`, iproute2 >= 4.13): a node's MAC and the client's neighbour (ARP/NDP) entry
 * for a VIP.
 */
import type { NetNode, Topology } from './netns.js';
import { run } from './proc.js';

/** The MAC address of the node's VRRP interface, lower case (`ip -j link show`). */
export async function macOf(node: NetNode): Promise<string> {
  const [link] = JSON.parse(await run(['ip', '-n', node.ns, '-j', 'link', 'show', 'dev', node.iface])) as { address?: string }[];
  if (!link?.address) throw new Error(`no MAC address on ${node.iface} in ${node.ns}`);
  return link.address.toLowerCase();
}

/** The MAC the client's neighbour table holds for `vip` now, or undefined (none, or FAILED/INCOMPLETE). */
export async function clientNeighbour(topo: Topology, vip: string): Promise<string | undefined> {
  const entries = JSON.parse(await run(['ip', '-n', topo.client.ns, '-j', 'neigh', 'show', 'to', vip, 'dev', topo.client.iface])) as { lladdr?: string }[];
  return entries[0]?.lladdr?.toLowerCase();
}

/**
 * Makes the client believe `vip` is at `mac` (a client that learned the split brain's loser),
 * and lets the next ARP/NA for it replace that at once: `locktime` 0 on the client's interface
 * (Linux ignores an ARP that would change an entry updated less than `locktime`, 1 s by
 * default, ago; ip-sysctl.rst), so the measurement starts at the restore, not a second later.
 */
export async function pointClientAt(topo: Topology, vip: string, mac: string): Promise<void> {
  const family = vip.includes(':') ? 'ipv6' : 'ipv4';
  await run(['ip', 'netns', 'exec', topo.client.ns, 'sh', '-c', `echo 0 > /proc/sys/net/${family}/neigh/${topo.client.iface}/locktime`]);
  await run(['ip', '-n', topo.client.ns, 'neigh', 'replace', vip, 'lladdr', mac, 'dev', topo.client.iface, 'nud', 'reachable']);
}

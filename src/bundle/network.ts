import ipaddr from 'ipaddr.js';
import type { PlanNode } from '../model.js';
import { toYaml } from '../formats/yaml.js';
import { fail } from '../profile/errors.js';
import { bracketIp, ipFamily, staticNetworkProblem } from '../profile/values.js';

/**
 * Static network settings of one node, for NoCloud `network-config` and the `ip=` kernel
 * argument. `address`/`prefix` come from the node's `a.b.c.d/nn` address; `gateway` and `dns`
 * are optional per-node profile fields. A node is statically configured when it has a gateway
 * or DNS servers; it then needs a prefix.
 */
export type NetworkNode = Pick<PlanNode, 'name' | 'index' | 'address' | 'prefix' | 'interface' | 'mac' | 'gateway' | 'dns' | 'boot'> &
  Partial<Pick<PlanNode, 'secondaryAddress' | 'secondaryPrefix'>>;

/** The resolved static configuration of a node ({@link staticNetwork}). */
export interface StaticNetwork {
  address: string;
  prefix: number;
  /** Dual stack: the node's address of the other family, with its prefix length. */
  secondary?: { address: string; prefix: number };
  gateway?: string;
  dns: string[];
  interface: string;
  mac?: string;
  hostname: string;
}

/**
 * Returns the node's static settings, or undefined when it has neither gateway nor DNS
 * (the OS then uses DHCP).
 * @throws ProblemError (field `nodes[i].address`, i the plan's node index) when static settings
 *   lack a prefix, or (`nodes[i].gateway`) when the gateway is of the other family or outside
 *   the subnet. A profile cannot get here with either: resolve.ts reports both when it loads,
 *   naming `nodes[i]` or `workers[i]` with line:col; this guards plans made in code.
 */
export function staticNetwork(node: NetworkNode): StaticNetwork | undefined {
  if (node.gateway === undefined && (node.dns ?? []).length === 0) return undefined;
  const secondary = node.secondaryAddress === undefined ? undefined : { address: node.secondaryAddress, prefix: node.secondaryPrefix };
  const problem = staticNetworkProblem(node.address, node.prefix, node.gateway, node.dns, secondary);
  if (problem) fail('E_NETWORK', ['nodes', node.index, problem.field], problem.message, problem.hint);
  return {
    address: node.address,
    prefix: node.prefix!, // staticNetworkProblem reported a missing one
    ...(secondary === undefined ? {} : { secondary: { address: secondary.address, prefix: secondary.prefix! } }),
    ...(node.gateway === undefined ? {} : { gateway: node.gateway }),
    dns: node.dns ?? [],
    interface: node.interface,
    ...(node.mac === undefined ? {} : { mac: node.mac }),
    hostname: node.name,
  };
}

/**
 * The `ip=` kernel argument for a static node, in the syntax shared by dracut
 * (dracut.cmdline(7): `ip=<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:none[:<dns1>[:<dns2>]]`,
 * IPv6 addresses in brackets, netmask as a prefix length for IPv6) and the kernel's own
 * nfsroot `ip=` parser used by initramfs-tools (IPv4). At most two resolvers fit. The primary
 * address only: it brings the installer up; the installed system's network-config carries both.
 */
export function ipKernelArg(net: StaticNetwork): string {
  const v6 = ipFamily(net.address) === 6;
  const netmask = v6 ? String(net.prefix) : ipaddr.IPv4.subnetMaskFromPrefixLength(net.prefix).toString();
  const fields = [
    bracketIp(net.address), '', net.gateway === undefined ? '' : bracketIp(net.gateway),
    netmask, net.hostname, net.interface, 'none',
    ...net.dns.slice(0, 2).map(bracketIp),
  ];
  return `ip=${fields.join(':')}`;
}

/**
 * NoCloud `network-config` (Netplan-style version 2) for a static node, as YAML text: one
 * ethernet matched by MAC (and renamed to `interface`) when the MAC is known, else by name;
 * `addresses: [addr/prefix]` (dual stack: both families' addresses; the second family's
 * default route comes from router advertisements, as the profile has one gateway), a default route `routes: [{to: 0.0.0.0/0 or ::/0, via: gateway}]`
 * (cloud-init deprecates `gateway4`/`gateway6`; the `to: default` spelling is refused by
 * cloud-init 22.4's v2 parser, Debian 12, while the CIDR form works everywhere),
 * `nameservers.addresses`. Source: cloud-init docs, "Network configuration version 2".
 */
export function networkConfigV2(net: StaticNetwork): string {
  return toYaml(networkV2(net), { sortKeys: false });
}

/** The data of {@link networkConfigV2} (also the `network` of an autoinstall document). */
export function networkV2(net: StaticNetwork): { version: 2; ethernets: Record<string, object> } {
  const ethernet = {
    ...(net.mac === undefined ? {} : { match: { macaddress: net.mac }, 'set-name': net.interface }),
    addresses: [`${net.address}/${net.prefix}`, ...(net.secondary ? [`${net.secondary.address}/${net.secondary.prefix}`] : [])],
    ...(net.gateway === undefined ? {} : { routes: [{ to: ipFamily(net.gateway) === 6 ? '::/0' : '0.0.0.0/0', via: net.gateway }] }),
    ...(net.dns.length === 0 ? {} : { nameservers: { addresses: net.dns } }),
  };
  return { version: 2, ethernets: { [net.interface]: ethernet } };
}

/**
 * kubeadm's and kube-apiserver's own validation rules, ported for what k8s-ha generates, so
 * `check` (and `render`) refuse a profile whose cluster kubeadm would reject or whose
 * apiserver would never start. kubeadm cannot run here; each rule names its source:
 *
 * - kubeadm `cmd/kubeadm/app/apis/kubeadm/validation/validation.go` (read at commit
 *   00d24de699fe4409b5829a5e51b73c1fc7bcba12): ValidateNetworking, ValidateIPNetFromString,
 *   ValidateServiceSubnetSize, ValidatePodSubnetNodeMask and getClusterNodeMask,
 *   ValidateCertSANs, ValidateHostPort, ValidateNodeRegistrationOptions, ValidateToken,
 *   ValidateCertificateKey;
 * - kubeadm `cmd/kubeadm/app/constants/constants.go`: MinimumAddressesInServiceSubnet = 10,
 *   MaximumBitsForServiceSubnet = 20, MinimumAddressesInPodSubnet = 14,
 *   PodSubnetNodeMaskMaxDiff = 16;
 * - kubeadm `cmd/kubeadm/app/util/endpoint.go` ParseHostPort (controlPlaneEndpoint);
 * - kube-apiserver `cmd/kube-apiserver/app/options/validation.go`: validateClusterIPFlags /
 *   validateMaxCIDRRange (maxCIDRBits 20) and validatePublicIPServiceClusterIPRangeIPFamilies
 *   ("service IP family ... must match public address family", kubernetes/kubeadm#2754);
 * - kube-apiserver's `--service-cluster-ip-range` help ("must not overlap with any IP ranges
 *   assigned to nodes or pods") and kubeadm's create-cluster page ("your Pod network must not
 *   overlap with any of the host networks");
 * - kubeadm's dual-stack page (docs/setup/production-environment/tools/kubeadm/dual-stack-support):
 *   kubelet `node-ip` with an address of each family on every node.
 */
import ipaddr from 'ipaddr.js';
import type { Family } from '../model.js';
import { error, type FieldPath, type Problem } from './errors.js';
import { DNS1123_LABEL, ipFamily, isDns1123Subdomain, parseCidrList, type ParsedCidr } from './values.js';

/** Where each ported rule comes from, as printed in hints. */
export const RULE_SOURCES = {
  ipNet: 'kubeadm validation.go ValidateIPNetFromString',
  serviceMin: 'kubeadm validation.go ValidateIPNetFromString with constants.go MinimumAddressesInServiceSubnet = 10 (the DNS service is the tenth address)',
  podMin: 'kubeadm validation.go ValidateIPNetFromString with constants.go MinimumAddressesInPodSubnet = 14',
  serviceSize: 'kubeadm validation.go ValidateServiceSubnetSize (constants.go MaximumBitsForServiceSubnet = 20) and kube-apiserver options/validation.go validateMaxCIDRRange',
  podNodeMask: 'kubeadm validation.go ValidatePodSubnetNodeMask: node CIDR mask /24 (IPv4) or /64 (IPv6) by default (getClusterNodeMask), at most 16 bits longer than the pod subnet\'s (constants.go PodSubnetNodeMaskMaxDiff)',
  publicFamily: 'kube-apiserver options/validation.go validatePublicIPServiceClusterIPRangeIPFamilies: the advertise address must be of the primary (first) service subnet\'s family (kubernetes/kubeadm#2754)',
  dualStack: 'kubeadm dual-stack page (setup/production-environment/tools/kubeadm/dual-stack-support): every node needs an address of each family (kubelet node-ip)',
  serviceOverlap: 'kube-apiserver --service-cluster-ip-range: "must not overlap with any IP ranges assigned to nodes or pods"',
  podOverlap: 'kubeadm create-cluster page: "your Pod network must not overlap with any of the host networks"',
  hostPort: 'kubeadm validation.go ValidateHostPort (util/endpoint.go ParseHostPort): an IP or DNS-1123 subdomain with a port 1-65535',
  certSANs: 'kubeadm validation.go ValidateCertSANs: each SAN an IP address or a (wildcard) DNS-1123 subdomain',
  nodeName: 'kubeadm validation.go ValidateNodeRegistrationOptions: nodeRegistration.name is a DNS-1123 subdomain (lower case)',
} as const;

/** Default node CIDR mask sizes of kube-controller-manager as kubeadm assumes them (validation.go getClusterNodeMask). */
export const DEFAULT_NODE_MASK = { 4: 24, 6: 64 } as const;
/** constants.go MinimumAddressesInServiceSubnet. */
export const MIN_SERVICE_ADDRESSES = 10;
/** constants.go MinimumAddressesInPodSubnet. */
export const MIN_POD_ADDRESSES = 14;
/** constants.go MaximumBitsForServiceSubnet: IPv4 /12, IPv6 /108 at most. */
export const MAX_SERVICE_HOST_BITS = 20;
/** constants.go PodSubnetNodeMaskMaxDiff. */
export const POD_NODE_MASK_MAX_DIFF = 16;

/** A host's addresses as the networking rules see them. */
export interface RuleHost {
  name: string;
  /** Field path of the host's `address` (its `secondaryAddress` is the sibling key). */
  path: FieldPath;
  controlPlane: boolean;
  address: string;
  prefix?: number | undefined;
  secondary?: { address: string; prefix?: number | undefined } | undefined;
}

/** What the networking rules check: the resolved subnets and every host. */
export interface NetworkingInput {
  /** Family of the nodes' `address` (kubeadm advertiseAddress, first node-ip). */
  primaryFamily: Family;
  /** Every node carries an address of each family. */
  dualStack: boolean;
  serviceSubnet: string;
  /** True when the profile wrote serviceSubnet (else it is k8s-ha's default). */
  serviceSubnetGiven: boolean;
  podSubnet?: string | undefined;
  hosts: RuleHost[];
  /** VIPs with their field paths. */
  vips: { address: string; path: FieldPath }[];
}

const SERVICE: FieldPath = ['kubernetes', 'serviceSubnet'];
const POD: FieldPath = ['kubernetes', 'podSubnet'];

/** 2^(bits - prefix), capped like Go's netutils.RangeSize (huge ranges are "enough"). */
function rangeSize(c: ParsedCidr): number {
  const hostBits = (c.family === 4 ? 32 : 128) - c.prefix;
  return hostBits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** hostBits;
}

function network(address: string, prefix: number): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const kind = ipFamily(address) === 4 ? ipaddr.IPv4 : ipaddr.IPv6;
  return [kind.networkAddressFromCIDR(`${address}/${prefix}`), prefix];
}

function overlaps(a: [ipaddr.IPv4 | ipaddr.IPv6, number], b: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
  if (a[0].kind() !== b[0].kind()) return false;
  return a[0].match(b as never) || b[0].match(a as never);
}

/**
 * Checks the cluster's pod and service subnets against kubeadm's and kube-apiserver's rules
 * and against the nodes (families, overlaps); see the module comment for each source.
 * @returns the problems found (errors only), each with its source in the hint.
 */
export function networkingProblems(n: NetworkingInput): Problem[] {
  const problems: Problem[] = [];
  const service = parseCidrList(n.serviceSubnet);
  const pod = n.podSubnet === undefined ? undefined : parseCidrList(n.podSubnet);
  const lists: [FieldPath, ParsedCidr[] | undefined, 'service' | 'pod'][] = [[SERVICE, service, 'service'], [POD, pod, 'pod']];
  const families = new Set<Family>(n.dualStack ? [4, 6] : [n.primaryFamily]);
  for (const [path, list, kind] of lists) {
    if (list === undefined) continue;
    const text = list.map((c) => c.text).join(',');
    if (list.length === 2 && list[0]!.family === list[1]!.family)
      problems.push(error('E_SUBNET', path, `"${text}": expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking`, RULE_SOURCES.ipNet));
    for (const c of list) {
      const size = rangeSize(c);
      const min = kind === 'service' ? MIN_SERVICE_ADDRESSES : MIN_POD_ADDRESSES;
      if (size < min)
        problems.push(error('E_SUBNET', path, `${kind} subnet ${c.text} with ${size} address(es) is too small, the minimum is ${min}`, kind === 'service' ? RULE_SOURCES.serviceMin : RULE_SOURCES.podMin));
      const bits = c.family === 4 ? 32 : 128;
      if (kind === 'service' && bits - c.prefix > MAX_SERVICE_HOST_BITS)
        problems.push(error('E_SUBNET', path, `service subnet ${c.text} is too large; for ${bits}-bit addresses, the mask must be >= ${bits - MAX_SERVICE_HOST_BITS}`, RULE_SOURCES.serviceSize));
      if (kind === 'pod') {
        const nodeMask = DEFAULT_NODE_MASK[c.family];
        if (c.prefix > nodeMask)
          problems.push(error('E_SUBNET', path, `the size of pod subnet ${c.text} with mask ${c.prefix} is smaller than the size of node subnet with mask ${nodeMask}`, RULE_SOURCES.podNodeMask));
        else if (nodeMask - c.prefix > POD_NODE_MASK_MAX_DIFF)
          problems.push(error('E_SUBNET', path, `pod subnet ${c.text}: mask (${c.prefix}) and node-mask (${nodeMask}) difference is greater than ${POD_NODE_MASK_MAX_DIFF}`, RULE_SOURCES.podNodeMask));
      }
      // A first service CIDR of the wrong family is the apiserver's rule below.
      const publicFamilyRule = kind === 'service' && c === list[0] && c.family !== n.primaryFamily;
      if (!families.has(c.family) && !publicFamilyRule)
        problems.push(error('E_FAMILY', path, `${kind} subnet ${c.text} is IPv${c.family} but the nodes have no IPv${c.family} address`, `${RULE_SOURCES.dualStack}: give every node a secondaryAddress of that family, or drop this CIDR`));
    }
  }
  // The apiserver advertises the node's `address`: the first service CIDR must be of its family.
  const primary = service?.[0];
  const cp = n.hosts.find((h) => h.controlPlane);
  if (primary && cp && primary.family !== n.primaryFamily)
    problems.push(error('E_FAMILY', SERVICE, `service IP family "${primary.text}" must match public address family "${cp.address}" (${cp.name}'s address, its advertiseAddress)`, `${RULE_SOURCES.publicFamily}; ${n.serviceSubnetGiven ? `use an IPv${n.primaryFamily} CIDR${n.dualStack ? ' first' : ''}` : 'set kubernetes.serviceSubnet'}`));

  // Overlaps: service vs pod, service and pod vs the hosts' networks (VIPs included).
  const hostNets: { net: [ipaddr.IPv4 | ipaddr.IPv6, number]; what: string }[] = [];
  for (const h of n.hosts) {
    for (const a of [{ address: h.address, prefix: h.prefix }, ...(h.secondary ? [h.secondary] : [])]) {
      const full = ipFamily(a.address) === 4 ? 32 : 128;
      hostNets.push({ net: network(a.address, a.prefix ?? full), what: `${h.name}'s ${a.prefix === undefined ? 'address' : 'network'} ${a.address}${a.prefix === undefined ? '' : `/${a.prefix}`}` });
    }
  }
  for (const v of n.vips) hostNets.push({ net: network(v.address, ipFamily(v.address) === 4 ? 32 : 128), what: `VIP ${v.address}` });
  const defaulted = n.serviceSubnetGiven ? '' : ' (k8s-ha\'s default; set kubernetes.serviceSubnet)';
  for (const s of service ?? []) {
    const sn = network(s.address, s.prefix);
    for (const p of pod ?? []) {
      if (overlaps(sn, network(p.address, p.prefix)))
        problems.push(error('E_OVERLAP', SERVICE, `service subnet ${s.text}${defaulted} overlaps pod subnet ${p.text}`, RULE_SOURCES.serviceOverlap));
    }
    const hit = hostNets.find((h) => overlaps(sn, h.net));
    if (hit) problems.push(error('E_OVERLAP', SERVICE, `service subnet ${s.text}${defaulted} overlaps ${hit.what}`, RULE_SOURCES.serviceOverlap));
  }
  for (const p of pod ?? []) {
    const hit = hostNets.find((h) => overlaps(network(p.address, p.prefix), h.net));
    if (hit) problems.push(error('E_OVERLAP', POD, `pod subnet ${p.text} overlaps ${hit.what}`, RULE_SOURCES.podOverlap));
  }
  return problems;
}

/**
 * kubeadm ParseHostPort (util/endpoint.go) on a generated `host:port`: the host an IP address
 * (IPv6 in brackets) or a DNS-1123 subdomain, the port 1-65535.
 * @returns why it is not valid, or undefined.
 */
export function hostPortProblem(endpoint: string): string | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(endpoint);
  if (!m) return `"${endpoint}" is not host:port`;
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return `port ${m[3]} is not 1-65535`;
  if (m[1] !== undefined) return ipFamily(m[1]) === 6 ? undefined : `"${m[1]}" in brackets is not an IPv6 address`;
  const host = m[2]!;
  if (ipFamily(host) !== undefined || isDns1123Subdomain(host)) return undefined;
  return `host "${host}" is neither an IP address nor a DNS-1123 subdomain`;
}

/** kubeadm ValidateCertSANs: an IP address, a DNS-1123 subdomain, or one with a leading `*.` wildcard. */
export function isValidCertSAN(san: string): boolean {
  if (ipFamily(san) !== undefined) return true;
  const name = san.startsWith('*.') ? san.slice(2) : san;
  return name !== '' && isDns1123Subdomain(name);
}

/** kubeadm ValidateNodeRegistrationOptions: nodeRegistration.name is a DNS-1123 subdomain (k8s-ha keeps to a label: it is also the hostname). */
export function isValidNodeName(name: string): boolean {
  return isDns1123Subdomain(name) && DNS1123_LABEL.test(name.split('.')[0]!);
}

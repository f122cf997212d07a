/**
 * kubeadm's and kube-apiserver's rules as `check` applies them (src/profile/kubeadm-rules.ts):
 * for every rule a profile that breaks it (rejected, the rule's source named in the hint) and
 * one on the edge (accepted). Profiles are YAML text on 198.18.0.0/15 and fd00:18::/64.
 */
import test from 'ava';
import YAML from 'yaml';
import { ProblemError, type CodeName, type Problem } from '../src/profile/errors.js';
import { hostPortProblem, isValidCertSAN, isValidNodeName, networkingProblems } from '../src/profile/kubeadm-rules.js';
import { parseProfile, type LoadedProfile } from '../src/profile/load.js';
import { parseSecrets, serialiseSecrets } from '../src/secrets/store.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

interface Opts {
  /** Nodes get an IPv6 secondaryAddress (dual stack). */
  dual?: boolean;
  /** IPv6-only nodes and VIP. */
  v6?: boolean;
  podSubnet?: string;
  serviceSubnet?: string;
  /** Third octet of the nodes' IPv4 /24 (default 0: 198.18.0.0/24). */
  net?: string;
}

/** A three-node profile; the nodes' network is 198.18.0.0/24 (or `net`) and fd00:18::/64. */
function profile(o: Opts = {}): string {
  const net = o.net ?? '198.18.0';
  const host = (i: number) => (o.v6 ? { address: `fd00:18::${i}/64` } : { address: `${net}.${i}/24`, ...(o.dual ? { secondaryAddress: `fd00:18::${i}/64` } : {}) });
  return YAML.stringify({
    name: 'rules',
    vip: { addresses: [o.v6 ? 'fd00:18::100' : `${net}.100`], port: 7443, interface: 'eth0', routerId: 77 },
    kubernetes: { version: 'v1.31.2', ...(o.podSubnet ? { podSubnet: o.podSubnet } : {}), ...(o.serviceSubnet ? { serviceSubnet: o.serviceSubnet } : {}) },
    nodes: [1, 2, 3].map((i) => ({ name: `cp-${i}`, ...host(10 + i) })),
  });
}

/** The errors `check` reports for a profile (empty when it is accepted). */
function errors(o: Opts): Problem[] {
  try {
    parseProfile('rules.yaml', profile(o), {});
    return [];
  } catch (e) {
    if (e instanceof ProblemError) return e.problems.filter((p) => p.severity === 'error');
    throw e;
  }
}

const load = (o: Opts): LoadedProfile => parseProfile('rules.yaml', profile(o), {});

/** Asserts exactly one error, with its code, field path, message and hint (the rule's source). */
function rejects(t: import('ava').ExecutionContext, o: Opts, code: CodeName, path: string, message: RegExp, source: RegExp): void {
  const found = errors(o);
  t.is(found.length, 1, JSON.stringify(found));
  const p = found[0]!;
  t.is(p.code, code);
  t.is(p.path.join('.'), path);
  t.regex(p.message, message);
  t.regex(p.hint ?? '', source);
}

test('serviceSubnet: two CIDRs of one family are refused (ValidateIPNetFromString); one of each is accepted', (t) => {
  rejects(t, { dual: true, serviceSubnet: '10.96.0.0/16,10.97.0.0/16' }, 'E_SUBNET', 'kubernetes.serviceSubnet', /two CIDRs from each family for dual-stack/, /validation\.go ValidateIPNetFromString/);
  t.deepEqual(errors({ dual: true, serviceSubnet: '10.96.0.0/16,fd00:96::/112' }), []);
  // More than two is not even a subnet list (schema, E014).
  t.regex(errors({ dual: true, serviceSubnet: '10.96.0.0/16,fd00:96::/112,10.97.0.0/16' })[0]!.message, /expected a CIDR .* or a dual-stack pair/);
});

test('service subnet size: at least 10 addresses (IPv4 /28, IPv6 /124), at most 20 host bits (IPv4 /12, IPv6 /108)', (t) => {
  rejects(t, { serviceSubnet: '10.96.0.0/29' }, 'E_SUBNET', 'kubernetes.serviceSubnet', /with 8 address\(es\) is too small, the minimum is 10/, /MinimumAddressesInServiceSubnet = 10/);
  t.deepEqual(errors({ serviceSubnet: '10.96.0.0/28' }), []);
  rejects(t, { v6: true, serviceSubnet: 'fd00:96::/125' }, 'E_SUBNET', 'kubernetes.serviceSubnet', /too small/, /ValidateIPNetFromString/);
  t.deepEqual(errors({ v6: true, serviceSubnet: 'fd00:96::/124' }), []);
  rejects(t, { serviceSubnet: '10.96.0.0/11' }, 'E_SUBNET', 'kubernetes.serviceSubnet', /too large; for 32-bit addresses, the mask must be >= 12/, /ValidateServiceSubnetSize .*validateMaxCIDRRange/);
  t.deepEqual(errors({ serviceSubnet: '10.96.0.0/12' }), []);
  rejects(t, { v6: true, serviceSubnet: 'fd00:96::/107' }, 'E_SUBNET', 'kubernetes.serviceSubnet', /for 128-bit addresses, the mask must be >= 108/, /MaximumBitsForServiceSubnet = 20/);
  t.deepEqual(errors({ v6: true, serviceSubnet: 'fd00:96::/108' }), []);
  // Each CIDR of a pair is held to its family's limit.
  rejects(t, { dual: true, serviceSubnet: '10.96.0.0/16,fd00:96::/64' }, 'E_SUBNET', 'kubernetes.serviceSubnet', /fd00:96::\/64 is too large/, /ValidateServiceSubnetSize/);
});

test('pod subnet vs the node CIDR mask: IPv4 /8 to /24, IPv6 /48 to /64 (ValidatePodSubnetNodeMask)', (t) => {
  rejects(t, { podSubnet: '10.244.0.0/25' }, 'E_SUBNET', 'kubernetes.podSubnet', /pod subnet 10\.244\.0\.0\/25 with mask 25 is smaller than the size of node subnet with mask 24/, /ValidatePodSubnetNodeMask/);
  t.deepEqual(errors({ podSubnet: '10.244.0.0/24' }), []);
  rejects(t, { podSubnet: '100.0.0.0/7' }, 'E_SUBNET', 'kubernetes.podSubnet', /mask \(7\) and node-mask \(24\) difference is greater than 16/, /PodSubnetNodeMaskMaxDiff/);
  t.deepEqual(errors({ podSubnet: '100.0.0.0/8' }), []);
  rejects(t, { v6: true, podSubnet: 'fd00:244::/65' }, 'E_SUBNET', 'kubernetes.podSubnet', /mask 65 is smaller than the size of node subnet with mask 64/, /getClusterNodeMask/);
  t.deepEqual(errors({ v6: true, podSubnet: 'fd00:244::/64' }), []);
  rejects(t, { v6: true, podSubnet: 'fd00:244::/47' }, 'E_SUBNET', 'kubernetes.podSubnet', /difference is greater than 16/, /ValidatePodSubnetNodeMask/);
  t.deepEqual(errors({ v6: true, podSubnet: 'fd00:244::/48' }), []);
});

test('pod subnet minimum size (MinimumAddressesInPodSubnet = 14) is checked, behind the node mask rule', (t) => {
  const input = { primaryFamily: 4 as const, dualStack: false, serviceSubnet: '10.96.0.0/12', serviceSubnetGiven: true, hosts: [], vips: [] };
  const small = networkingProblems({ ...input, podSubnet: '10.244.0.0/29' }).map((p) => p.message);
  t.true(small.some((m) => /with 8 address\(es\) is too small, the minimum is 14/.test(m)), small.join('\n'));
  t.false(networkingProblems({ ...input, podSubnet: '10.244.0.0/28' }).some((p) => /too small/.test(p.message)));
});

test('the advertise address family must be the primary service subnet family (kube-apiserver, kubernetes/kubeadm#2754)', (t) => {
  // The case: IPv6 nodes with an IPv4 service subnet.
  const v6 = errors({ v6: true, serviceSubnet: '10.96.0.0/12' });
  t.true(v6.some((p) => p.code === 'E_FAMILY' && /service IP family "10\.96\.0\.0\/12" must match public address family "fd00:18::11"/.test(p.message) && /validatePublicIPServiceClusterIPRangeIPFamilies/.test(p.hint ?? '')), JSON.stringify(v6));
  // Dual stack with the IPv6 CIDR first while the nodes' address (advertiseAddress) is IPv4.
  rejects(t, { dual: true, serviceSubnet: 'fd00:96::/112,10.96.0.0/16' }, 'E_FAMILY', 'kubernetes.serviceSubnet', /must match public address family "198\.18\.0\.11"/, /kubeadm#2754/);
  t.deepEqual(errors({ dual: true, serviceSubnet: '10.96.0.0/16,fd00:96::/112' }), []);
  // A single IPv4 service CIDR is fine for a dual-stack cluster with IPv4 primary (single-stack Services).
  t.deepEqual(errors({ dual: true, serviceSubnet: '10.96.0.0/16' }), []);
});

test('a subnet of a family the nodes lack is refused (kubeadm dual-stack page: node-ip of both families)', (t) => {
  rejects(t, { podSubnet: '10.244.0.0/16,fd00:244::/56' }, 'E_FAMILY', 'kubernetes.podSubnet', /pod subnet fd00:244::\/56 is IPv6 but the nodes have no IPv6 address/, /dual-stack page/);
  t.deepEqual(errors({ dual: true, podSubnet: '10.244.0.0/16,fd00:244::/56' }), []);
});

test('pod, service and node networks must not overlap; adjacent ranges are fine', (t) => {
  rejects(t, { podSubnet: '10.96.0.0/16' }, 'E_OVERLAP', 'kubernetes.serviceSubnet', /service subnet 10\.96\.0\.0\/12 \(k8s-ha's default; set kubernetes\.serviceSubnet\) overlaps pod subnet 10\.96\.0\.0\/16/, /--service-cluster-ip-range/);
  t.deepEqual(errors({ podSubnet: '10.112.0.0/16' }), [], '10.112.0.0 is the first address after 10.96.0.0/12');
  rejects(t, { net: '10.100.0', serviceSubnet: '10.100.0.0/16' }, 'E_OVERLAP', 'kubernetes.serviceSubnet', /overlaps cp-1's network 10\.100\.0\.11\/24/, /must not overlap with any IP ranges assigned to nodes or pods/);
  // The default service subnet against nodes inside it: the error says to set serviceSubnet.
  rejects(t, { net: '10.100.0' }, 'E_OVERLAP', 'kubernetes.serviceSubnet', /10\.96\.0\.0\/12 \(k8s-ha's default; set kubernetes\.serviceSubnet\) overlaps cp-1's network/, /service-cluster-ip-range/);
  t.deepEqual(errors({ net: '10.100.0', serviceSubnet: '10.101.0.0/16' }), []);
  rejects(t, { podSubnet: '198.18.0.0/16' }, 'E_OVERLAP', 'kubernetes.podSubnet', /pod subnet 198\.18\.0\.0\/16 overlaps cp-1's network 198\.18\.0\.11\/24/, /create-cluster page/);
  t.deepEqual(errors({ podSubnet: '198.19.0.0/16' }), []);
  // The IPv6 halves too.
  rejects(t, { dual: true, podSubnet: '10.244.0.0/16,fd00:18::/56' }, 'E_OVERLAP', 'kubernetes.podSubnet', /fd00:18::\/56 overlaps cp-1's network fd00:18::11\/64/, /host networks/);
});

test('defaults by family: IPv4 leaves networking to kubeadm; IPv6 gets fd00:10:96::/112; dual stack both, primary first', (t) => {
  t.is(load({}).plan.kubernetes.serviceSubnet, undefined);
  t.is(load({ v6: true }).plan.kubernetes.serviceSubnet, 'fd00:10:96::/112');
  t.is(load({ dual: true }).plan.kubernetes.serviceSubnet, '10.96.0.0/12,fd00:10:96::/112');
  t.is(load({ v6: true }).plan.kubernetes.podSubnet, undefined, 'no pod subnet unless given');
  // An explicit serviceSubnet is kept as written, even when it is kubeadm's default.
  t.is(load({ serviceSubnet: '10.96.0.0/12' }).plan.kubernetes.serviceSubnet, '10.96.0.0/12');
});

test('controlPlaneEndpoint host:port as kubeadm ParseHostPort reads it', (t) => {
  for (const ok of ['k8s-api.example.com:8443', '198.18.0.100:7443', '[fd00:18::100]:7443', 'a:1', 'a:65535']) t.is(hostPortProblem(ok), undefined, ok);
  for (const [bad, why] of [
    ['fd00:18::100:7443', /not host:port/],
    ['https://k8s-api.example.com:8443', /not host:port/],
    ['k8s-api.example.com:0', /port 0 is not 1-65535/],
    ['k8s-api.example.com:65536', /not 1-65535/],
    ['K8S.example.com:8443', /neither an IP address nor a DNS-1123 subdomain/],
    ['[198.18.0.1]:8443', /not an IPv6 address/],
  ] as const)
    t.regex(hostPortProblem(bad) ?? '', why, bad);
  t.is(load({ v6: true }).plan.kubernetes.controlPlaneEndpoint, '[fd00:18::100]:7443');
});

test('certSANs: IP addresses or (wildcard) DNS-1123 subdomains (ValidateCertSANs)', (t) => {
  for (const ok of ['198.18.0.1', 'fd00::1', 'k8s-api.example.com', '*.example.com', 'a'.repeat(63)]) t.true(isValidCertSAN(ok), ok);
  for (const bad of ['K8s.example.com', '-a.example.com', 'a_b', '*', 'a.*.com', 'a'.repeat(64), 'https://x']) t.false(isValidCertSAN(bad), bad);
  const dual = load({ dual: true }).plan.kubernetes.certSANs;
  t.deepEqual(dual, ['198.18.0.100', '198.18.0.11', 'fd00:18::11', '198.18.0.12', 'fd00:18::12', '198.18.0.13', 'fd00:18::13']);
  t.true(dual.every(isValidCertSAN));
});

test('node names: lower-case DNS-1123 (ValidateNodeRegistrationOptions); the profile refuses upper case', (t) => {
  t.true(isValidNodeName('cp-1'));
  t.true(isValidNodeName('a'.repeat(63)));
  t.false(isValidNodeName('CP-1'));
  t.false(isValidNodeName('a'.repeat(64)));
  const text = profile().replace('name: cp-2', 'name: CP-2');
  const err = t.throws(() => parseProfile('rules.yaml', text, {}), { instanceOf: ProblemError }) as ProblemError;
  t.regex(err.message, /E014 at nodes\[1\]\.name/);
  t.regex(err.message, /ValidateNodeRegistrationOptions/);
  t.notThrows(() => parseProfile('rules.yaml', profile().replace('name: cp-2', `name: ${'c'.repeat(63)}`), {}));
});

test('token and certificate key formats (ValidateToken, ValidateCertificateKey) guard the secrets file', (t) => {
  const good = serialiseSecrets(FIXTURE_SECRETS);
  t.notThrows(() => parseSecrets(good, 's.json'));
  const withField = (key: string, value: string) => JSON.stringify({ ...JSON.parse(good), [key]: value });
  t.throws(() => parseSecrets(withField('bootstrapToken', 'ABCDEF.0123456789abcdef'), 's.json'), { message: /bootstrapToken: .*ValidateToken/ });
  t.throws(() => parseSecrets(withField('bootstrapToken', 'abcdef.0123456789abcde'), 's.json'), { message: /ValidateToken/ });
  t.notThrows(() => parseSecrets(withField('bootstrapToken', 'abcdef.0123456789abcdef'), 's.json'));
  t.throws(() => parseSecrets(withField('certificateKey', 'ab'.repeat(31)), 's.json'), { message: /certificateKey: .*ValidateCertificateKey/ });
  t.notThrows(() => parseSecrets(withField('certificateKey', '0f'.repeat(32)), 's.json'));
});

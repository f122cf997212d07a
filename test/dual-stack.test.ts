/**
 * Dual-stack profiles: secondaryAddress rules, one VRRP instance per VIP family with its own
 * virtual_router_id and the same priorities and track script, HAProxy on both families, the
 * primary family's VIP as controlPlaneEndpoint. keepalived -t and haproxy -c on
 * profiles/dual-stack.toml run in consumers.test.ts.
 */
import test from 'ava';
import { checkScript, keepalivedConf } from '../src/components/keepalived.js';
import { haproxyCfg } from '../src/components/haproxy.js';
import { ProblemError } from '../src/profile/errors.js';
import { parseProfile } from '../src/profile/load.js';

const NODES = `
[[nodes]]
name = "cp-1"
address = "198.18.0.11/24"
secondaryAddress = "fd00:18::11/64"
[[nodes]]
name = "cp-2"
address = "198.18.0.12/24"
secondaryAddress = "fd00:18::12/64"
[[nodes]]
name = "cp-3"
address = "198.18.0.13/24"
secondaryAddress = "fd00:18::13/64"
`;

function toml(vips: string[], extra = '', nodes = NODES): string {
  return `name = "ds"\n[vip]\naddresses = ${JSON.stringify(vips)}\nport = 7443\ninterface = "eth0"\nrouterId = 77\n${extra}\n[kubernetes]\nversion = "v1.31.2"\n${nodes}`;
}

const load = (text: string) => parseProfile('ds.toml', text, {});
function problems(text: string): string[] {
  try {
    load(text);
    return [];
  } catch (e) {
    if (!(e instanceof ProblemError)) throw e;
    return e.problems.map((p) => `${p.code} ${p.path.join('.')}: ${p.message}`);
  }
}

/** The body of `vrrp_instance NAME { ... }` in a keepalived.conf. */
function instance(conf: string, name: string): string {
  const m = new RegExp(`^vrrp_instance ${name} \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(conf);
  if (!m) throw new Error(`no vrrp_instance ${name} in\n${conf}`);
  return m[1]!;
}

test('one vrrp_instance per VIP family: own virtual_router_id, same state and priority, one sync group tracking the script, unicast in its family', (t) => {
  const { plan } = load(toml(['198.18.0.100', 'fd00:18::100']));
  t.is(plan.vip.routerId, 77);
  t.is(plan.vip.secondaryRouterId, 78);
  t.is(plan.keepalived.vrrpVersion, 3);
  for (const node of plan.nodes) {
    const conf = keepalivedConf(plan, node).content;
    t.is(conf.match(/^vrrp_instance /gm)?.length, 2);
    const v4 = instance(conf, 'k8s_api_vip');
    const v6 = instance(conf, 'k8s_api_vip_ipv6');
    t.regex(v4, /virtual_router_id 77\n/);
    t.regex(v6, /virtual_router_id 78\n/);
    for (const key of ['state', 'priority', 'advert_int', 'interface']) {
      const line = (body: string) => new RegExp(`^ +${key} .*$`, 'm').exec(body)?.[0];
      t.is(line(v4), line(v6), `${node.name} ${key}`);
    }
    // Both instances in one sync group that tracks the script (with its weight): an instance
    // in a group would have its script's weight zeroed by keepalived.
    t.notRegex(v4, /track_script/);
    t.notRegex(v6, /track_script/);
    t.regex(conf, /^vrrp_sync_group k8s_api_vips \{\n {4}group \{\n {8}k8s_api_vip\n {8}k8s_api_vip_ipv6\n {4}\}\n {4}track_script \{\n {8}check_apiserver\n {4}\}\n\}/m);
    t.regex(v4, new RegExp(`unicast_src_ip ${node.address.replace(/\./g, '\\.')}\n`));
    t.regex(v6, new RegExp(`unicast_src_ip ${node.secondaryAddress}\n`));
    t.regex(v4, /virtual_ipaddress \{\n\s+198\.18\.0\.100\/32\n\s+\}/);
    t.regex(v6, /virtual_ipaddress \{\n\s+fd00:18::100\/128\n\s+\}/);
    t.notRegex(v6, /198\.18\./, 'no IPv4 peer or VIP in the IPv6 instance');
    t.notRegex(v4, /fd00:/, 'no IPv6 peer or VIP in the IPv4 instance');
    t.notRegex(conf, /authentication/, 'VRRPv3 has no authentication');
  }
  t.regex(haproxyCfg(plan).content, /bind :::7443 v4v6\n/);
  t.regex(checkScript(plan).content, /https:\/\/127\.0\.0\.1:7443\/healthz/);
  t.is(plan.kubernetes.controlPlaneEndpoint, '198.18.0.100:7443', 'the primary family\'s VIP');
  t.deepEqual(plan.kubernetes.certSANs.slice(0, 2), ['198.18.0.100', 'fd00:18::100']);
});

test('secondaryRouterId: explicit, default wraps 255 to 1 and skips 51, equal to routerId refused', (t) => {
  t.is(load(toml(['198.18.0.100', 'fd00:18::100'], 'secondaryRouterId = 200')).plan.vip.secondaryRouterId, 200);
  t.is(load(toml(['198.18.0.100', 'fd00:18::100']).replace('routerId = 77', 'routerId = 255')).plan.vip.secondaryRouterId, 1);
  t.is(load(toml(['198.18.0.100', 'fd00:18::100']).replace('routerId = 77', 'routerId = 50')).plan.vip.secondaryRouterId, 52);
  t.deepEqual(problems(toml(['198.18.0.100', 'fd00:18::100'], 'secondaryRouterId = 77')), ['E_DUPLICATE vip.secondaryRouterId: secondaryRouterId 77 equals routerId']);
  t.deepEqual(load(toml(['198.18.0.100', 'fd00:18::100'], 'secondaryRouterId = 51')).warnings.map((w) => `${w.code} ${w.path}`), ['W101 vip.secondaryRouterId']);
  // One VIP family: one instance, no second id in the plan.
  const single = load(toml(['198.18.0.100'])).plan;
  t.is(single.vip.secondaryRouterId, undefined);
  const singleConf = keepalivedConf(single, single.nodes[0]!).content;
  t.is(singleConf.match(/^vrrp_instance /gm)?.length, 1);
  t.notRegex(singleConf, /vrrp_sync_group/);
  t.regex(instance(singleConf, 'k8s_api_vip'), /track_script \{\n\s+check_apiserver\n/);
});

test('IPv6 VIPs only on IPv4-primary dual-stack nodes: one IPv6 instance with routerId, endpoint the IPv6 VIP', (t) => {
  const { plan } = load(toml(['fd00:18::100']));
  const conf = keepalivedConf(plan, plan.nodes[1]!).content;
  t.regex(instance(conf, 'k8s_api_vip'), /virtual_router_id 77\n[\s\S]*unicast_src_ip fd00:18::12\n/);
  t.is(plan.kubernetes.controlPlaneEndpoint, '[fd00:18::100]:7443');
});

test('static network settings (gateway, dns) need the secondaryAddress\'s prefix too: it goes into network-config', (t) => {
  const text = toml(['198.18.0.100'], '', NODES.replace('secondaryAddress = "fd00:18::11/64"', 'secondaryAddress = "fd00:18::11"\ngateway = "198.18.0.1"'));
  t.deepEqual(problems(text), ['E_NETWORK nodes.0.secondaryAddress: fd00:18::11 has no prefix length, which static network settings (gateway, dns) need']);
  t.deepEqual(problems(text.replace('secondaryAddress = "fd00:18::11"', 'secondaryAddress = "fd00:18::11/64"')), []);
});

test('secondaryAddress rules: the other family, on every node or none, unique, not a VIP, VIPs inside its subnet', (t) => {
  t.deepEqual(problems(toml(['198.18.0.100'], '', NODES.replace('fd00:18::12/64', '198.18.0.42/24'))), [
    'E_FAMILY nodes.1.secondaryAddress: "198.18.0.42/24" is IPv4 like the node\'s address; secondaryAddress is its IPv6 address',
  ]);
  t.deepEqual(problems(toml(['198.18.0.100'], '', NODES.replace('secondaryAddress = "fd00:18::13/64"\n', ''))), [
    'E_FAMILY nodes.2.address: cp-3 has no secondaryAddress, but other nodes do: dual stack needs an IPv6 address on every node',
  ]);
  t.deepEqual(problems(toml(['198.18.0.100'], '', NODES.replace('fd00:18::13/64', 'fd00:18::12/64'))), ['E_DUPLICATE nodes.2.secondaryAddress: duplicate node address fd00:18::12 (also nodes.1)']);
  t.deepEqual(problems(toml(['198.18.0.100', 'fd00:18::12'])), ['E_VIP_IS_NODE nodes.1.secondaryAddress: node address fd00:18::12 is also vip.addresses[1]']);
  t.deepEqual(
    problems(toml(['198.18.0.100', 'fd00:99::100'])).filter((p) => p.startsWith('E_VIP_SUBNET')),
    ['cp-1', 'cp-2', 'cp-3'].map((n, i) => `E_VIP_SUBNET vip.addresses.1: VIP fd00:99::100 is outside node ${n}'s subnet fd00:18::${11 + i}/64`),
  );
  // Without secondary addresses a VIP of the other family is still refused.
  const single = NODES.replace(/secondaryAddress = .*\n/g, '');
  t.deepEqual(problems(toml(['198.18.0.100', 'fd00:18::100'], '', single)), ['E_FAMILY vip.addresses.1: "fd00:18::100" is IPv6 but the profile\'s other addresses are IPv4']);
});

test('workers in a dual-stack cluster need a secondaryAddress too, and get node-ip with both', (t) => {
  const worker = '[[workers]]\nname = "w-1"\naddress = "198.18.0.21/24"\n';
  t.deepEqual(problems(toml(['198.18.0.100'], '', NODES + worker)), ['E_FAMILY workers.0.address: w-1 has no secondaryAddress, but other nodes do: dual stack needs an IPv6 address on every node']);
  const { plan } = load(toml(['198.18.0.100'], '', `${NODES}${worker}secondaryAddress = "fd00:18::21/64"\n`));
  t.is(plan.nodes[3]!.secondaryAddress, 'fd00:18::21');
});

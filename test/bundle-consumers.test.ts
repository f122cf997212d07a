import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkConfigV2, staticNetwork } from '../src/bundle/network.js';
import { join } from 'node:path';
import { loadProfile } from '../src/profile/load.js';
import { renderNode } from '../src/render.js';
import { fixture, labPlan, unpackedBundle } from './helpers/bundle-run.js';
import { cloudInitCheck, ignitionCheck, requireTool, run, testDir } from './helpers/tools.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import type { BootOs } from '../src/model.js';

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

for (const os of ['flatcar', 'fcos', 'ubuntu'] as BootOs[]) {
  test(`${os} bundle: every user-data passes cloud-init schema, every config.ign ignition-validate`, async (t) => {
    if (!requireTool(t, 'cloud-init') || !requireTool(t, 'ignition-validate')) return;
    const { dir } = await unpackedBundle(t, labPlan(os));
    const nodes = readdirSync(join(dir, 'nodes')).sort();
    t.deepEqual(nodes, ['cp-1', 'cp-2', 'cp-3']);
    for (const node of nodes) {
      const schema = cloudInitCheck(read(dir, `nodes/${node}/user-data`));
      t.true(schema.ok, `${node}: ${schema.output}`);
      const ign = ignitionCheck(read(dir, `nodes/${node}/config.ign`));
      t.true(ign.ok, `${node}: ${ign.output}`);
      t.regex(read(dir, `nodes/${node}/meta-data`), new RegExp(`^instance-id: lab-${node}-[0-9a-f]{12}\nlocal-hostname: ${node}\n$`));
    }
  });
}

/**
 * The interfaces cloud-init's own v2 parser makes of a network-config file (cloud-init 22.4 has
 * no `schema -t network-config`; parse_net_config_data is what it renders from).
 */
function parseNetworkConfig(file: string): unknown {
  const script = [
    'import json, sys, yaml',
    'from cloudinit.net import network_state',
    'ns = network_state.parse_net_config_data(yaml.safe_load(open(sys.argv[1])), skip_broken=False)',
    'print(json.dumps([{k: i[k] for k in ("name", "mac_address", "subnets")} for i in ns.iter_interfaces()]))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }));
}

test('dual stack: network-config carries both addresses; cloud-init parses a static subnet of each and writes both to systemd-networkd', (t) => {
  if (!requireTool(t, '/usr/bin/python3', 'python3') || !requireTool(t, 'cloud-init')) return;
  const node = { ...labPlan().nodes[0]!, secondaryAddress: '2001:2::11', secondaryPrefix: 64 };
  const file = join(testDir(t), 'network-config');
  writeFileSync(file, networkConfigV2(staticNetwork(node)!));
  const [iface] = parseNetworkConfig(file) as { subnets: { type: string; address: string; prefix: number; routes?: unknown[] }[] }[];
  t.deepEqual(iface!.subnets.map((s) => [s.type, s.address, s.prefix]), [['static', '198.18.0.11', 16], ['static', '2001:2::11', 64]]);
  // What cloud-init writes for systemd-networkd on Debian 12 from it: both addresses on the NIC.
  const out = join(testDir(t), 'networkd');
  execFileSync('cloud-init', ['devel', 'net-convert', '-p', file, '-k', 'yaml', '-d', out, '-D', 'debian', '-O', 'networkd'], { stdio: 'pipe' });
  const unit = readFileSync(join(out, 'etc/systemd/network/10-cloud-init-eth0.network'), 'utf8');
  t.deepEqual(unit.match(/^Address=.*$/gm), ['Address=198.18.0.11/16', 'Address=2001:2::11/64'], unit);
  // A static node's second address needs its prefix: refused when the profile loads, and here.
  t.throws(() => staticNetwork({ ...node, secondaryPrefix: undefined }), { message: /2001:2::11 has no prefix length/ });
});

test('network-config is parsed by cloud-init\'s own v2 parser into the static settings', async (t) => {
  if (!requireTool(t, '/usr/bin/python3', 'python3') || !requireTool(t, 'cloud-init')) return;
  const { dir } = await unpackedBundle(t, labPlan());
  t.false(readdirSync(join(dir, 'nodes/cp-3')).includes('network-config'), 'cp-3 has no static settings');
  t.deepEqual(parseNetworkConfig(join(dir, 'nodes/cp-1/network-config')), [{
    name: 'eth0', mac_address: '52:54:00:00:00:01',
    subnets: [{
      type: 'static', address: '198.18.0.11', prefix: 16, netmask: '255.255.0.0', dns_nameservers: ['198.18.0.2'],
      routes: [{ gateway: '198.18.0.1', network: '0.0.0.0', prefix: 0, netmask: '0.0.0.0' }],
    }],
  }]);
});

/** Matchbox's documented fields (poseidon/matchbox docs/matchbox.md, "Groups" and "Profiles"). */
const GROUP_KEYS = ['id', 'metadata', 'name', 'profile', 'selector'];
const PROFILE_KEYS = ['boot', 'cloud_id', 'generic_id', 'id', 'ignition_id', 'name'];
const BOOT_KEYS = ['args', 'initrd', 'kernel'];
const subset = (keys: string[], allowed: string[]) => keys.every((k) => allowed.includes(k));

for (const os of ['fcos', 'ubuntu'] as BootOs[]) {
  test(`${os}: Matchbox groups, profiles and Ignition use Matchbox's documented fields`, async (t) => {
    if (!requireTool(t, 'ignition-validate')) return;
    const { dir } = await unpackedBundle(t, labPlan(os));
    const plan = labPlan(os);
    for (const node of plan.nodes) {
      const group = JSON.parse(read(dir, `matchbox/groups/${node.name}.json`));
      t.true(subset(Object.keys(group), GROUP_KEYS), Object.keys(group).join());
      t.deepEqual(group, { id: node.name, name: node.name, profile: node.name, selector: { mac: node.mac } });
      const profile = JSON.parse(read(dir, `matchbox/profiles/${group.profile}.json`));
      t.true(subset(Object.keys(profile), PROFILE_KEYS) && subset(Object.keys(profile.boot), BOOT_KEYS));
      t.is(profile.id, node.name);
      t.true(typeof profile.boot.kernel === 'string' && profile.boot.initrd.every((i: unknown) => typeof i === 'string') && profile.boot.args.every((a: unknown) => typeof a === 'string'));
      if (os === 'fcos') {
        t.is(profile.ignition_id, `${node.name}.ign`);
        t.true(profile.boot.args.includes(`coreos.inst.ignition_url=http://198.18.0.1:8080/k8s/ignition?mac=${node.mac!.replaceAll(':', '-')}`));
        t.deepEqual(profile.boot.initrd, ['--name main http://198.18.0.1:8080/assets/fedora-coreos-live-initramfs.x86_64.img']);
        const ignition = join(dir, 'matchbox/ignition', profile.ignition_id);
        t.true(ignitionCheck(readFileSync(ignition, 'utf8')).ok);
        t.is(readFileSync(ignition, 'utf8'), read(dir, `nodes/${node.name}/config.ign`));
      } else {
        t.false('ignition_id' in profile);
        t.true(profile.boot.args.includes(`ds=nocloud-net;s=http://198.18.0.1:8080/k8s/nodes/${node.name}/`));
      }
    }
    t.is(existsSync(join(dir, 'matchbox/ignition')), os === 'fcos');
  });
}

test('iPXE, pxelinux, dnsmasq and README: per-node files by MAC, dnsmasq accepts the example', async (t) => {
  if (!requireTool(t, 'dnsmasq')) return;
  const { dir } = await unpackedBundle(t, labPlan('fcos'));
  t.deepEqual(readdirSync(join(dir, 'ipxe')).sort(), ['52-54-00-00-00-01.ipxe', '52-54-00-00-00-02.ipxe', '52-54-00-00-00-03.ipxe', 'boot.ipxe']);
  t.deepEqual(readdirSync(join(dir, 'pxelinux.cfg')).sort(), ['01-52-54-00-00-00-01', '01-52-54-00-00-00-02', '01-52-54-00-00-00-03']);
  t.true(read(dir, 'ipxe/boot.ipxe').split('\n').includes('chain http://198.18.0.1:8080/k8s/ipxe/${mac:hexhyp}.ipxe || goto unknown'));
  const script = read(dir, 'ipxe/52-54-00-00-00-03.ipxe').split('\n');
  t.is(script[0], '#!ipxe');
  t.true(script.every((line) => line === '' || /^(#|kernel |initrd |boot$)/.test(line)), script.join('\n'));
  t.regex(script[2]!, /coreos\.inst\.ignition_url=http:\/\/198\.18\.0\.1:8080\/k8s\/nodes\/cp-3\/config\.ign console=ttyS0,115200n8$/);
  t.regex(read(dir, 'ipxe/52-54-00-00-00-01.ipxe'), / ip=198\.18\.0\.11::198\.18\.0\.1:255\.255\.0\.0:cp-1:eth0:none:198\.18\.0\.2 /);
  const dnsmasq = run('dnsmasq', ['--test', '-C', join(dir, 'dnsmasq.conf.example')]);
  t.is(dnsmasq.code, 0, dnsmasq.stderr);
  t.regex(read(dir, 'dnsmasq.conf.example'), /^dhcp-host=52:54:00:00:00:02,198\.18\.0\.12,cp-2$/m);
  t.regex(read(dir, 'README.txt'), /Serve this directory, unpacked, at http:\/\/198\.18\.0\.1:8080\/k8s\//);
});

test('the seed profile\'s control-plane user-data fits AWS\'s 16 KiB', async (t) => {
  const { plan } = loadProfile(fixture('../../profiles/seed.toml'), {});
  for (const node of plan.nodes) t.true(Buffer.byteLength(renderNode(plan, node, FIXTURE_SECRETS).userData) < 16 * 1024, node.name);
});

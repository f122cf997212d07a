import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseProfile } from '../src/profile/load.js';
import { bootImage, checkBootSettings, nodeBoot } from '../src/bundle/boot.js';
import type { BootMode, BootSettings } from '../src/model.js';
import { budgetReport, checkMaxUserData } from '../src/bundle/budget.js';
import { ipxeNodeScript } from '../src/bundle/ipxe.js';
import { bundleEntries, requireMacs } from '../src/bundle/layout.js';
import { checkMatchboxIgnition } from '../src/bundle/matchbox.js';
import { ipKernelArg, staticNetwork } from '../src/bundle/network.js';
import { pxelinuxConfig } from '../src/bundle/pxelinux.js';
import { macHyphens } from '../src/bundle/validate.js';
import { testBoot, testNodes, testSource } from './helpers/bundle-fixture.js';

const node = testNodes(1)[0]!;
const worker = testNodes(4)[3]!;
const lines = (os: BootSettings['os'], n = node, mode: BootMode = 'install') => {
  const image = bootImage(checkBootSettings({ ...testBoot(os), mode }), n);
  return { ipxe: ipxeNodeScript(n.name, image).split('\n'), pxelinux: pxelinuxConfig(n.name, image).split('\n') };
};
const A = 'http://198.18.0.1:8080/assets';
const C = 'http://198.18.0.1:8080/k8s';
const IP = 'ip=198.18.0.10::198.18.0.1:255.255.0.0:cp-0:eth0:none:198.18.0.2:198.18.0.3';

test('flatcar iPXE and pxelinux lines: live names the node config, install the install config', (t) => {
  const { ipxe, pxelinux } = lines('flatcar', node, 'live');
  t.deepEqual(ipxe, [
    '#!ipxe', '# k8s-ha node cp-0',
    `kernel ${A}/flatcar_production_pxe.vmlinuz initrd=flatcar_production_pxe_image.cpio.gz flatcar.first_boot=1 ignition.config.url=${C}/nodes/cp-0/config.ign ${IP} console=ttyS0,115200n8`,
    `initrd --name flatcar_production_pxe_image.cpio.gz ${A}/flatcar_production_pxe_image.cpio.gz`, 'boot', '',
  ]);
  t.true(pxelinux.includes(`  KERNEL ${A}/flatcar_production_pxe.vmlinuz`));
  t.true(pxelinux.includes(`  APPEND initrd=${A}/flatcar_production_pxe_image.cpio.gz flatcar.first_boot=1 ignition.config.url=${C}/nodes/cp-0/config.ign ${IP} console=ttyS0,115200n8`));
  t.is(lines('flatcar').ipxe[2], `kernel ${A}/flatcar_production_pxe.vmlinuz initrd=flatcar_production_pxe_image.cpio.gz flatcar.first_boot=1 ignition.config.url=${C}/nodes/cp-0/install.ign ${IP} console=ttyS0,115200n8`);
});

test('fcos iPXE and pxelinux lines: live kernel, initrd main, rootfs; live: firstboot, metal; install: coreos.inst.*', (t) => {
  const { ipxe, pxelinux } = lines('fcos', node, 'live');
  t.is(ipxe[2], `kernel ${A}/fedora-coreos-live-kernel-x86_64 initrd=main coreos.live.rootfs_url=${A}/fedora-coreos-live-rootfs.x86_64.img ignition.firstboot ignition.platform.id=metal ignition.config.url=${C}/nodes/cp-0/config.ign ${IP} console=ttyS0,115200n8`);
  t.is(ipxe[3], `initrd --name main ${A}/fedora-coreos-live-initramfs.x86_64.img`);
  t.is(pxelinux[4], `  APPEND initrd=${A}/fedora-coreos-live-initramfs.x86_64.img coreos.live.rootfs_url=${A}/fedora-coreos-live-rootfs.x86_64.img ignition.firstboot ignition.platform.id=metal ignition.config.url=${C}/nodes/cp-0/config.ign ${IP} console=ttyS0,115200n8`);
  t.is(lines('fcos').ipxe[2], `kernel ${A}/fedora-coreos-live-kernel-x86_64 initrd=main coreos.live.rootfs_url=${A}/fedora-coreos-live-rootfs.x86_64.img coreos.inst.install_dev=/dev/vda coreos.inst.ignition_url=${C}/nodes/cp-0/config.ign ${IP} console=ttyS0,115200n8`);
});

test('ubuntu iPXE lines: live-server ISO, autoinstall, NoCloud seed URL with trailing slash, ip=dhcp without static settings', (t) => {
  const head = `kernel ${A}/vmlinuz initrd=initrd url=${A}/ubuntu-live-server-amd64.iso autoinstall`;
  t.is(lines('ubuntu', worker).ipxe[2], `${head} ds=nocloud-net;s=${C}/nodes/worker-3/ cloud-config-url=/dev/null ip=dhcp console=ttyS0,115200n8`);
  t.is(lines('ubuntu').ipxe[2], `${head} ds=nocloud-net;s=${C}/nodes/cp-0/ cloud-config-url=/dev/null ${IP} console=ttyS0,115200n8`);
});

test('boot mode and install disk: defaults, per-node overrides, bad values name the field, no live Ubuntu', (t) => {
  const bare: BootSettings = { os: 'fcos', assetsUrl: A, configUrl: C, kernelArgs: [] };
  const checked = checkBootSettings(bare);
  t.is(checked.mode, 'install');
  t.is(checked.installDisk, '/dev/sda');
  t.deepEqual(nodeBoot(checked, node), { mode: 'install', installDisk: '/dev/sda' });
  t.deepEqual(nodeBoot(checked, { ...node, boot: { installDisk: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1' } }), { mode: 'install', installDisk: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1' });
  t.deepEqual(nodeBoot(checkBootSettings({ ...bare, mode: 'live' }), { ...node, boot: { mode: 'install' } }), { mode: 'install', installDisk: '/dev/sda' });
  for (const disk of ['sda', '/dev/', '/dev/../etc/passwd', '/dev/sda b', '/dev/sd$a', '/dev/sda;reboot', "/dev/'a"]) {
    t.throws(() => checkBootSettings({ ...bare, installDisk: disk }), { message: /^k8s-ha: error E030 at boot\.installDisk: .* is not a block device path/ }, disk);
    t.throws(() => nodeBoot(checked, { ...node, index: 2, boot: { installDisk: disk } }), { message: /^k8s-ha: error E030 at nodes\[2\]\.boot\.installDisk: / }, disk);
  }
  t.throws(() => checkBootSettings({ ...bare, mode: 'ram' as BootMode }), { message: /boot\.mode: "ram" is not a boot mode/ });
  t.throws(() => checkBootSettings({ ...bare, os: 'ubuntu', mode: 'live' }), { message: /boot\.mode: Ubuntu has no live PXE image/ });
  t.throws(() => nodeBoot(checkBootSettings({ ...bare, os: 'ubuntu' }), { ...node, boot: { mode: 'live' } }), { message: /nodes\[0\]\.boot\.mode: Ubuntu has no live/ });
});

test('ip= for IPv6 brackets addresses and uses the prefix length', (t) => {
  const net = staticNetwork({ name: 'cp-6', index: 0, address: '2001:db8::10', prefix: 64, interface: 'ens3', gateway: '2001:db8::1', dns: ['2001:db8::53'] });
  t.is(ipKernelArg(net!), 'ip=[2001:db8::10]::[2001:db8::1]:64:cp-6:ens3:none:[2001:db8::53]');
});

test('static settings need a prefix and a gateway inside the subnet', (t) => {
  t.throws(() => staticNetwork({ ...node, prefix: undefined }), { message: /nodes\[0\]\.address: .*no prefix[^]*hint: write the address with its prefix, e\.g\. 198\.18\.0\.10\/24/ });
  t.throws(() => staticNetwork({ ...node, prefix: 24, gateway: '198.18.5.1' }), { message: /nodes\[0\]\.gateway: 198\.18\.5\.1 is not inside 198\.18\.0\.10\/24/ });
  t.is(staticNetwork(worker), undefined);
});

test('every inserted value is validated', (t) => {
  const bad = (patch: Partial<BootSettings>, message: RegExp) => t.throws(() => checkBootSettings({ ...testBoot('fcos'), ...patch }), { message });
  bad({ assetsUrl: 'ftp://198.18.0.1/a' }, /boot\.assetsUrl: .* must use http or https/);
  bad({ assetsUrl: 'http://198.18.0.1/a b' }, /boot\.assetsUrl: .*not safe/);
  bad({ configUrl: 'http://198.18.0.1/"x' }, /boot\.configUrl: .*not safe/);
  bad({ configUrl: 'http://198.18.0.1/${x}' }, /boot\.configUrl/);
  bad({ configUrl: 'http://198.18.0.1/a;b' }, /boot\.configUrl/);
  bad({ configUrl: 'http://198.18.0.1/a\nchain http://evil' }, /boot\.configUrl/);
  bad({ configUrl: 'http://198.18.0.1/k?x=1' }, /query or fragment/);
  bad({ configUrl: 'not a url' }, /boot\.configUrl/);
  bad({ kernelArgs: ['a b'] }, /boot\.kernelArgs\[0\]: "a b" is not a single kernel argument/);
  bad({ kernelArgs: ['ok', ';'] }, /boot\.kernelArgs\[1\]/);
  bad({ os: 'windows' as BootSettings['os'] }, /boot\.os: "windows" is not supported\n {2}hint: one of flatcar, fcos, ubuntu/);
  t.is(checkBootSettings({ ...testBoot('fcos'), configUrl: 'https://198.18.0.1/k8s///' }).configUrl, 'https://198.18.0.1/k8s');
  t.is(macHyphens('52:54:00:ab:cd:ef', ['m']), '52-54-00-ab-cd-ef');
  t.throws(() => macHyphens('52:54:00:AB:CD:EF', ['nodes', 1, 'mac']), { message: /nodes\[1\]\.mac: "52:54:00:AB:CD:EF" is not a MAC address/ });
  t.throws(() => macHyphens('52-54-00-ab-cd-ef', ['m']));
});

test('per-MAC boot files need a mac on every node; the error names them all', (t) => {
  const nodes = testNodes(4).map((n, i) => (i % 2 ? { ...n, mac: undefined } : n));
  t.throws(() => requireMacs(nodes), { message: /^k8s-ha: error E011 at nodes: cp-1, worker-3 have no mac/ });
  t.throws(() => [...bundleEntries({ ...testSource('fcos', 4), nodes })], { message: /cp-1, worker-3/ });
});

test('Matchbox gets Ignition no newer than 3.4.0', (t) => {
  t.notThrows(() => checkMatchboxIgnition('3.4.0'));
  t.throws(() => checkMatchboxIgnition('3.5.0'), { message: /--ignition-version: Matchbox parses Ignition spec 3\.0\.0 to 3\.4\.0, not 3\.5\.0/ });
});

test('user-data budget: table against AWS/CloudStack/OpenStack, --max-user-data fails', (t) => {
  t.is(budgetReport([{ node: 'cp-0', bytes: 16384 }, { node: 'cp-1', bytes: 40000 }]), [
    'node  user-data bytes  AWS 16 KiB  CloudStack 32 KiB  OpenStack 64 KiB',
    'cp-0  16384            ok          ok                 ok',
    'cp-1  40000            OVER        OVER               ok',
    '',
  ].join('\n'));
  t.notThrows(() => checkMaxUserData({ node: 'cp-0', bytes: 100 }, 100));
  t.notThrows(() => checkMaxUserData({ node: 'cp-0', bytes: 100 }, undefined));
  t.throws(() => checkMaxUserData({ node: 'cp-0', bytes: 101 }, 100), { message: /--max-user-data: user-data of node cp-0 is 101 bytes, over the limit of 100/ });
});

test('a worker names its own NIC in the static settings; without one it takes vip.interface', (t) => {
  const text = readFileSync(new URL('../../profiles/baremetal.toml', import.meta.url), 'utf8');
  const own = text.replace('name = "worker-2"', 'name = "worker-2"\ninterface = "enp1s0"');
  const { plan, problems } = parseProfile('baremetal.toml', own, {});
  t.deepEqual(problems.filter((p) => p.severity === 'error'), []);
  const [w1, w2] = plan.nodes.filter((n) => n.role === 'worker');
  t.is(w1!.interface, 'eno1');
  t.is(w2!.interface, 'enp1s0');
  t.regex(ipKernelArg(staticNetwork(w2!)!), /^ip=10\.40\.0\.22::10\.40\.0\.1:255\.255\.255\.0:worker-2:enp1s0:none:/);
});

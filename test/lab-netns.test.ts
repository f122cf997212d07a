/**
 * The lab's network helpers that read iproute2's JSON (`ip -j`) and pick the client's address
 * with ipaddr.js (issue #19 item 4). clientAddress is pure; the others run the real `ip` as
 * root, in a throwaway namespace or a private mount namespace, never touching the lab's own.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clientAddress, flushAddresses, type TopologySpec } from '../src/lab/netns.js';
import { Netns, runOk } from './helpers/tools.js';

const spec = (address: string, prefix: number | undefined, taken: string[] = []): TopologySpec => ({
  nodes: [{ name: 'n1', address, ...(prefix === undefined ? {} : { prefix }), iface: 'eth0' }],
  vips: taken,
});

test('clientAddress: the highest free host address of the first node subnet', (t) => {
  t.deepEqual(clientAddress(spec('198.18.0.11', 24)), { address: '198.18.0.254', prefix: 24 }, 'the IPv4 broadcast address is skipped');
  t.deepEqual(clientAddress(spec('198.18.0.11', undefined)), { address: '198.18.0.254', prefix: 24 }, '/24 when the profile gives none');
  t.deepEqual(clientAddress(spec('198.18.0.11', 15, ['198.19.255.254'])), { address: '198.19.255.253', prefix: 15 }, 'VIPs are taken');
  t.deepEqual(clientAddress(spec('198.18.0.1', 30)), { address: '198.18.0.2', prefix: 30 });
  t.deepEqual(clientAddress(spec('fd00::11', undefined)), { address: 'fd00::ffff:ffff:ffff:ffff', prefix: 64 }, 'IPv6 has no broadcast address: its last one is used');
  t.deepEqual(clientAddress(spec('fd00::11', 64, ['FD00:0::FFFF:FFFF:FFFF:FFFF'])), { address: 'fd00::ffff:ffff:ffff:fffe', prefix: 64 }, 'taken addresses compare canonically');
  t.deepEqual(clientAddress(spec('fd00::', 127)), { address: 'fd00::1', prefix: 127 });
  // Across a byte boundary: every address of 10.0.1.0/24 taken in 10.0.0.0/23.
  const upper = Array.from({ length: 255 }, (_, i) => `10.0.1.${i}`);
  t.deepEqual(clientAddress(spec('10.0.0.1', 23, upper)), { address: '10.0.0.255', prefix: 23 });
});

test('clientAddress: no free address, a subnet without hosts, or more than 4096 taken addresses is an error', (t) => {
  for (const [address, prefix] of [['198.18.0.1', 32], ['198.18.0.1', 31], ['fd00::1', 128]] as const)
    t.throws(() => clientAddress(spec(address, prefix)), { message: `no free address for the lab client in ${address}/${prefix}` });
  t.throws(() => clientAddress(spec('198.18.0.1', 30, ['198.18.0.2'])), { message: /no free address/ }, 'the node itself and the VIP take both hosts');
  const top = Array.from({ length: 4095 }, (_, i) => `198.18.${255 - (i + 1 >> 8)}.${255 - ((i + 1) & 255)}`);
  t.throws(() => clientAddress(spec('198.18.0.1', 16, top)), { message: /no free address/ }, 'the walk looks at 4095 IPv4 addresses below the broadcast address');
  t.deepEqual(clientAddress(spec('198.18.0.1', 16, top.slice(0, -1))), { address: '198.18.240.0', prefix: 16 });
});

const NETNS = fileURLToPath(new URL('../src/lab/netns.js', import.meta.url));

test.serial("labNamespaces: the lab's namespaces from `ip -j netns list`, also when /run/netns does not exist", (t) => {
  // A private mount namespace with its own /run: the machine's namespaces (and a lab that may
  // be running) are neither seen nor touched, and the two made here vanish with it.
  const list = `const m = await import(${JSON.stringify(NETNS)}); process.stdout.write(JSON.stringify(await m.labNamespaces()))`;
  const inPrivateRun = (setup: string) => {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs none /run && ${setup} exec "$0" --input-type=module -e "$1"`, process.execPath, list], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as string[];
  };
  t.deepEqual(inPrivateRun('ip netns add other && ip netns add k8sha-lab-x && ip netns add k8sha-lab-y &&').sort(), ['k8sha-lab-x', 'k8sha-lab-y']);
  t.deepEqual(inPrivateRun(''), [], 'no /run/netns: ip prints nothing');
});

test.serial('flushAddresses: removes exactly the listed addresses still on the interface, whatever their prefix', async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.close());
  ns.ensure('eth0');
  for (const a of ['198.18.7.7/24', '198.18.7.8/32', '198.18.7.80/24', 'fd00::8/64', 'fd00::9/128']) runOk('ip', ['-n', ns.name, 'addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : [])]);
  await flushAddresses({ name: 'n1', ns: ns.name, iface: 'eth0', address: '198.18.7.7', prefix: 24 }, ['198.18.7.8', 'fd00::9', '198.18.7.99']);
  const left = runOk('ip', ['-n', ns.name, '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']).split('\n').filter(Boolean).map((l) => l.split(/\s+/)[3]);
  t.deepEqual(left.sort(), ['198.18.7.7/24', '198.18.7.80/24', 'fd00::8/64']);
});

/**
 * The VIP watch (issue #20 items 2 and 3) against the real wire: lab.toml's three control-plane
 * nodes and a foreign host, each in a network namespace on one bridge (198.18.0.0/24 only),
 * the generated script run as the sidecar runs it, with the real arping: iputils' (Debian) and
 * busybox's (what the default busybox image carries). VIPs are put on interfaces with `ip addr`,
 * which is all the watch looks at (who answers ARP for a VIP this node holds).
 */
import test from 'ava';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadProfile } from '../src/profile/load.js';
import { DUPLICATE_MARK, VIP_WATCH, confirmSeconds, vipWatchBoundSeconds } from '../src/components/vip-watch.js';
import { parse } from 'yaml';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Plan, PlanNode } from '../src/model.js';
import { Segment, files } from './helpers/segment.js';
import { hasTool, run, runOk, shellcheck, testDir } from './helpers/tools.js';
import { cli } from './helpers/cli.js';

const LAB = new URL('../../fixtures/lab/', import.meta.url).pathname;
const VIP = '198.18.0.100';
const FOREIGN = '198.18.0.250';

/** Every applet the script runs, linked to Debian's static busybox, as the busybox image has them. */
function busyboxPath(dir: string): string {
  if (!hasTool('busybox')) throw new Error('busybox is not installed: run `apt-get install -y busybox-static` (the suite runs the real program; it does not skip)');
  const bin = join(dir, 'busybox-bin');
  mkdirSync(bin);
  const busybox = runOk('sh', ['-c', 'command -v busybox']).trim();
  for (const applet of ['sh', 'date', 'sed', 'tr', 'sort', 'head', 'grep', 'sleep', 'ip', 'arping']) symlinkSync(busybox, join(bin, applet));
  return bin;
}

/** lab.toml's control-plane nodes and a foreign host on one segment; the watch script per node written to `dir`. */
function segment(t: import('ava').ExecutionContext) {
  const { plan } = loadProfile(`${LAB}lab.toml`);
  const dir = testDir(t, 'k8s-ha-vip-watch-');
  const seg = new Segment(t, dir, ['arping', 'unshare']);
  const nodes = plan.nodes.filter((n) => n.vrrp) as PlanNode[];
  const ns = new Map(nodes.map((n) => [n.name, seg.add([`${n.address}/24`])]));
  const foreign = seg.add([`${FOREIGN}/24`]);
  const script = (n: PlanNode) => {
    const file = join(dir, `${n.name}-watch.sh`);
    writeFileSync(file, files(plan).get(n.name)!.get(VIP_WATCH)!);
    return file;
  };
  const hold = (where: string, on = true) => runOk('ip', ['-n', where, 'addr', on ? 'add' : 'del', `${VIP}/32`, 'dev', 'eth0']);
  return { plan, dir, seg, nodes, ns: (n: PlanNode) => ns.get(n.name)!, foreign, script, hold };
}

const duplicates = (out: string) => out.split('\n').filter((l) => l.includes(DUPLICATE_MARK));

test('a duplicate must persist 3 x advert_int + 1 s (whole seconds); the bound adds two check periods and one ARP probe per peer', (t) => {
  t.is(confirmSeconds(1), 4);
  t.is(confirmSeconds(0.2), 2);
  t.is(confirmSeconds(0.1), 2);
  t.is(confirmSeconds(3), 10);
  // lab.toml: 2 x (1 s pause + 2 s arping) + 4 s + 2 peers x 2 s.
  t.is(vipWatchBoundSeconds(loadProfile(`${LAB}lab.toml`).plan), 14);
});

test('the watch script of every control-plane node passes sh -n and shellcheck (IPv4, dual stack); IPv6 VIPs are said to be unwatched', (t) => {
  for (const file of ['lab.toml', 'lab-dual.toml', 'lab-fast.toml']) {
    for (const [name, fs] of files(loadProfile(`${LAB}${file}`).plan)) {
      const script = fs.get(VIP_WATCH);
      if (script === undefined) continue;
      t.is(run('sh', ['-n', '-c', script]).code, 0, `${file} ${name}`);
      const lint = shellcheck(script);
      t.true(lint.ok, `${file} ${name}: ${lint.output}`);
      if (file === 'lab-dual.toml') t.regex(script, /^UNWATCHED='2001:2::100'$/m);
    }
  }
});

test('the keepalived pod carries the watch as a second container with NET_RAW; vipWatch = "off" leaves script and container out', (t) => {
  const { plan } = loadProfile(`${LAB}lab.toml`);
  const pod = (p: Plan) => parse(files(p).get('cp-1')!.get('/etc/kubernetes/manifests/keepalived.yaml')!) as Pod;
  const [main, watch] = pod(plan).spec!.containers;
  t.is(main!.name, 'keepalived');
  t.like(watch, { name: 'vip-watch', image: 'busybox:1.36.1', command: ['/bin/sh', VIP_WATCH], securityContext: { capabilities: { add: ['NET_RAW'] } } });
  t.deepEqual(watch!.volumeMounts, main!.volumeMounts);
  const off: Plan = { ...plan, keepalived: { ...plan.keepalived, vipWatch: 'off' } };
  t.is(pod(off).spec!.containers.length, 1);
  for (const [name, fs] of files(off)) t.false(fs.has(VIP_WATCH), name);
  // IPv6 VIPs only: nothing to watch (ARP), so neither the script nor the container.
  const v6 = loadProfile(new URL('../../profiles/ipv6.yaml', import.meta.url).pathname).plan;
  const [n6] = [...files(v6).values()];
  t.is((parse(n6!.get('/etc/kubernetes/manifests/keepalived.yaml')!) as Pod).spec!.containers.length, 1);
  t.false(n6!.has(VIP_WATCH));
});

test('check prints what the segment guards promise: the preflight\'s listening time and the watch\'s bound, or why there is none', (t) => {
  const line = (file: string) => /^segment guards: .*$/m.exec(cli(['check', file]).stdout)?.[0];
  t.is(line(`${LAB}lab.toml`), 'segment guards: VRRP preflight listens 4 s for a foreign router before keepalived first starts; VIP watch logs a second holder of an IPv4 VIP within 14 s');
  t.regex(line(`${LAB}lab-dual.toml`) ?? '', /within 14 s \(IPv6 VIPs: not watched\)$/);
  t.regex(line(new URL('../../profiles/ipv6.yaml', import.meta.url).pathname) ?? '', /; no VIP watch \(IPv6 VIPs only: it speaks ARP\)$/);
});

test('an image without arping: the watch says what is missing and exits 1', (t) => {
  const { plan } = loadProfile(`${LAB}lab.toml`);
  const dir = testDir(t, 'k8s-ha-vip-watch-');
  writeFileSync(join(dir, 'w.sh'), files(plan).get('cp-1')!.get(VIP_WATCH)!);
  const r = run('/bin/sh', [join(dir, 'w.sh')], { env: { PATH: dir } });
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /ERROR: arping not found in this image: the VIP watch cannot run .*keepalived\.vipWatchImage/);
});

for (const arping of ['iputils', 'busybox'] as const) {
  test.serial(`${arping} arping: a peer holding our VIP is named with the VRRP path message within the bound; a foreign host as a duplicate VIP`, async (t) => {
    const { plan, dir, seg, nodes, ns, foreign, script, hold } = segment(t);
    const [a, b] = nodes as [PlanNode, PlanNode];
    const env: Record<string, string> = arping === 'busybox' ? { PATH: busyboxPath(dir) } : {};
    const shell = arping === 'busybox' ? join(env.PATH!, 'sh') : '/bin/sh';
    hold(ns(a));
    hold(ns(b));
    hold(foreign);
    // The duplicates are there from the start: both lines must come within the bound (+1 s for
    // the shell's start); the run is killed then.
    const r = await seg.runFor(ns(a), [shell, script(a)], vipWatchBoundSeconds(plan) + 1, env);
    t.log(r.stdout.trim());
    t.regex(r.stdout, new RegExp(`watching ${VIP} on eth0 from ${a.address} \\(peers: ${nodes.slice(1).map((n) => n.address).join(' ')}\\)`));
    const dup = duplicates(r.stdout);
    t.true(dup.some((l) => l.includes(`VIP ${VIP} is also held by peer ${b.address}`) && l.includes(`VRRP from ${b.address} not received: protocol 112 may be filtered`)), dup.join('\n'));
    t.true(dup.some((l) => /is also answered by MAC [0-9a-f:]{17}, not a node of this cluster/.test(l)), dup.join('\n'));
  });
}

test.serial('no alarm on a clean segment, nor for a second holder that goes within 3 x advert_int + 1 s (a handover)', async (t) => {
  const { plan, seg, nodes, ns, script, hold } = segment(t);
  const [a, b] = nodes as [PlanNode, PlanNode];
  hold(ns(a));
  const confirm = confirmSeconds(plan.keepalived.advertInterval);
  const watching = seg.runFor(ns(a), ['/bin/sh', script(a)], vipWatchBoundSeconds(plan) + 2);
  // A peer holds it too, for 2 s less than the watch waits (a check's time may precede the
  // reply it gets by busybox's 1 s probe gap), twice: a flap, not a split brain.
  for (let i = 0; i < 2; i++) {
    await sleep(2000);
    hold(ns(b));
    await sleep((confirm - 2) * 1000);
    hold(ns(b), false);
  }
  const r = await watching;
  t.log(r.stdout.trim());
  t.regex(r.stdout, /watching 198\.18\.0\.100/);
  t.deepEqual(duplicates(r.stdout), []);
  // Not holding the VIP: nothing to ask (no ARP sent for it at all).
  hold(ns(a), false);
  const idle = await seg.runFor(ns(b), ['/bin/sh', script(b)], 4);
  t.regex(idle.stdout, /watching 198\.18\.0\.100 on eth0 from 198\.18\.0\.12/);
  t.deepEqual(duplicates(idle.stdout), []);
});

/**
 * The VRRP preflight (issue #20 item 1) against the real wire: a bridge in its own network
 * namespace, node namespaces on 198.18.0.0/24 and 2001:2::/64 (RFC 5180 benchmarking ranges),
 * real keepalived sending adverts and the generated script capturing them with the real
 * tcpdump. Every namespace and process is removed in teardown, also on failure; keepalived
 * runs as the child of `unshare --pid --kill-child`, so the kernel ends its whole process
 * tree when the test kills that one process.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfile } from '../src/profile/load.js';
import { VRRP_PREFLIGHT, preflightSeconds } from '../src/components/vrrp-preflight.js';
import type { Plan, PlanNode } from '../src/model.js';
import { Segment, files } from './helpers/segment.js';
import { run, shellcheck, testDir } from './helpers/tools.js';

const LAB = new URL('../../fixtures/lab/', import.meta.url).pathname;
/** keepalived.conf of a router that is not ours: multicast, `routerId`, its own VIPs. */
function foreignConf(instances: { routerId: number; vip: string; v6?: boolean }[]): string {
  return [
    'global_defs {', '    router_id foreign', '}',
    ...instances.flatMap((i, n) => [
      `vrrp_instance foreign${n} {`, '    state MASTER', '    interface eth0', `    virtual_router_id ${i.routerId}`, '    priority 254', '    advert_int 1',
      ...(i.v6 ? [] : ['    authentication {', '        auth_type PASS', '        auth_pass other', '    }']),
      '    virtual_ipaddress {', `        ${i.vip}`, '    }', '}',
    ]),
    '',
  ].join('\n');
}

/** lab.toml's first two control-plane nodes, each in its namespace on one segment. */
function twoNodes(t: ExecutionContext) {
  const { plan } = loadProfile(`${LAB}lab.toml`);
  const seg = new Segment(t, testDir(t, 'k8s-ha-preflight-'));
  const [a, b] = plan.nodes.filter((n) => n.vrrp) as [PlanNode, PlanNode];
  return { plan, f: files(plan), seg, a, b, nsA: seg.add([`${a.address}/24`]), nsB: seg.add([`${b.address}/24`]) };
}

test('preflight listens at least 3 advert intervals, and 3 of keepalived\'s default 1 s for a faster profile, plus 1 s', (t) => {
  t.is(preflightSeconds(1), 4);
  t.is(preflightSeconds(0.1), 4);
  t.is(preflightSeconds(2), 7);
  t.is(preflightSeconds(0.7), 4);
});

test.serial('clean segment: a peer of ours advertising is no collision (exit 0)', async (t) => {
  const { plan, f, seg, a, b, nsA, nsB } = twoNodes(t);
  seg.keepalived(nsA, f.get(a.name)!.get('/etc/keepalived/keepalived.conf')!);
  await seg.advertising(nsA, plan.vip.addresses);
  const r = seg.preflight(nsB, f.get(b.name)!.get(VRRP_PREFLIGHT)!);
  t.is(r.code, 0, r.log);
  // It did hear the peer: a clean result is not an empty capture.
  t.regex(r.log, new RegExp(`no foreign VRRP router with our virtual_router_id on eth0 \\(adverts heard from our nodes ${a.address.replace(/\./g, '\\.')}\\)`));
  t.log(r.log.trim());
});

test.serial('a foreign router with our router id (IPv4 and IPv6) is named by source and router id (exit 1)', async (t) => {
  const { plan } = loadProfile(`${LAB}lab-dual.toml`);
  const f = files(plan);
  const seg = new Segment(t, testDir(t, 'k8s-ha-preflight-'));
  const node = plan.nodes.find((n) => n.vrrp)!;
  const nsNode = seg.add([`${node.address}/24`, `${node.secondaryAddress}/64`]);
  const nsForeign = seg.add(['198.18.0.250/24', '2001:2::250/64']);
  seg.keepalived(nsForeign, foreignConf([
    { routerId: plan.vip.routerId, vip: '198.18.0.251/32' },
    { routerId: plan.vip.secondaryRouterId!, vip: '2001:2::251/128', v6: true },
  ]));
  await seg.advertising(nsForeign, ['198.18.0.251', '2001:2::251']);
  const r = seg.preflight(nsNode, f.get(node.name)!.get(VRRP_PREFLIGHT)!);
  t.log(r.log.trim());
  t.is(r.code, 1, r.log);
  t.regex(r.log, new RegExp(`COLLISION on eth0: advert from 198\\.18\\.0\\.250 with virtual_router_id ${plan.vip.routerId} \\(VIPs 198\\.18\\.0\\.251\\): its source is not a node of this cluster`));
  // keepalived sends VRRPv3 over IPv6 from the interface's link-local address.
  t.regex(r.log, new RegExp(`COLLISION on eth0: advert from fe80::[0-9a-f:]+ with virtual_router_id ${plan.vip.secondaryRouterId} \\(VIPs 2001:2::251\\)`));
  t.regex(r.log, /refusing to start keepalived/);
  t.notRegex(r.log, /other/, 'the foreign auth_pass is never printed');
});

test.serial('a node address of ours advertising other VIPs is a collision too; a missing interface is a failed capture (exit 2)', async (t) => {
  const { plan, f, seg, a, b, nsA, nsB } = twoNodes(t);
  seg.keepalived(nsA, foreignConf([{ routerId: plan.vip.routerId, vip: '198.18.0.251/32' }]));
  await seg.advertising(nsA, ['198.18.0.251']);
  const script = f.get(b.name)!.get(VRRP_PREFLIGHT)!;
  const r = seg.preflight(nsB, script);
  t.is(r.code, 1, r.log);
  t.regex(r.log, new RegExp(`advert from ${a.address.replace(/\./g, '\\.')} with virtual_router_id ${plan.vip.routerId} \\(VIPs 198\\.18\\.0\\.251\\): its VIP set differs from ours`));
  const broken = seg.preflight(nsB, script.replace("IFACE='eth0'", "IFACE='nosuch0'"));
  t.is(broken.code, 2, broken.log);
  t.regex(broken.log, /ERROR: could not capture on nosuch0 \(tcpdump exit 1\)/);
});

test('without tcpdump the preflight warns with the install command and passes', (t) => {
  const { plan } = loadProfile(`${LAB}lab.toml`);
  const node = plan.nodes.find((n) => n.vrrp)!;
  const script = files(plan).get(node.name)!.get(VRRP_PREFLIGHT)!;
  const dir = testDir(t, 'k8s-ha-preflight-');
  writeFileSync(join(dir, 'p.sh'), script);
  const r = run('/bin/sh', [join(dir, 'p.sh')], { env: { PATH: dir } });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /WARNING: tcpdump not found: VRRP preflight skipped.*apt-get install -y tcpdump/);
});

test('the preflight script of every control-plane node passes sh -n and shellcheck (IPv4, IPv6, dual stack)', (t) => {
  for (const file of ['lab.toml', 'lab-dual.toml']) {
    for (const [name, fs] of files(loadProfile(`${LAB}${file}`).plan)) {
      const script = fs.get(VRRP_PREFLIGHT);
      if (script === undefined) continue;
      t.is(run('sh', ['-n', '-c', script]).code, 0, `${file} ${name}`);
      const lint = shellcheck(script);
      t.true(lint.ok, `${file} ${name}: ${lint.output}`);
    }
  }
});

test('vrrpPreflight = "off" writes no preflight and the bootstrap runs none', (t) => {
  const { plan } = loadProfile(`${LAB}lab.toml`);
  const off: Plan = { ...plan, keepalived: { ...plan.keepalived, vrrpPreflight: 'off' } };
  for (const [name, fs] of files(off)) {
    t.false(fs.has(VRRP_PREFLIGHT), name);
    t.notRegex(fs.get('/etc/k8s-ha/bootstrap.sh') ?? '', /vrrp-preflight/, name);
  }
  // On by default on every control-plane node, never on workers.
  for (const n of plan.nodes) t.is(files(plan).get(n.name)!.has(VRRP_PREFLIGHT), n.vrrp !== undefined, n.name);
});

/**
 * keepalived.trackProcess (issue 14 item 5): keepalived also tracks the node's HAProxy process
 * (vrrp_track_process, kernel process events), so a dead HAProxy moves the VIP without waiting
 * for the track script's whole-second checks. Checked with the real keepalived -t and haproxy -c.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { loadProfile, parseProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { failoverTimesMs, masterDownMs } from '../src/profile/vrrp.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import { Netns, tempDir } from './helpers/tools.js';

const LAB = new URL('../../fixtures/lab/', import.meta.url).pathname;

type Rendered = ReturnType<typeof renderCluster>[number];
const file = (r: Rendered, path: string) => r.payload.files.find((f) => f.path === path)?.content;
const pod = (r: Rendered, name: string) => parse(file(r, `/etc/kubernetes/manifests/${name}.yaml`)!) as Pod;

/** The body of `NAME { ... }` at the start of a line in a keepalived.conf. */
function block(conf: string, head: string): string {
  const m = new RegExp(`^${head} \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(conf);
  if (!m) throw new Error(`no ${head} in\n${conf}`);
  return m[1]!;
}

test('lab-fast-track.toml: vrrp_track_process matches the node\'s own HAProxy command line, with the script\'s weight; keepalived -t passes; keepalived pod has hostPID', (t) => {
  const { plan } = loadProfile(`${LAB}lab-fast-track.toml`);
  t.true(plan.keepalived.trackProcess);
  const ns = new Netns();
  t.teardown(() => ns.close());
  const cps = renderCluster(plan, FIXTURE_SECRETS).filter((r) => r.node.vrrp);
  t.is(cps.length, 3);
  for (const r of cps) {
    const conf = file(r, '/etc/keepalived/keepalived.conf')!;
    const haproxy = pod(r, 'haproxy').spec!.containers[0]!.command!;
    // One process (no -W master-worker: no fork or re-exec for keepalived to miscount), named by its node.
    t.deepEqual(haproxy, ['haproxy', '-db', '-f', '/etc/haproxy/haproxy.cfg', '-L', r.node.name]);
    const track = block(conf, 'vrrp_track_process haproxy_process');
    t.regex(track, new RegExp(`^ +process ${haproxy.join(' ')}\\n`, 'm'), r.node.name);
    t.regex(track, /^ +param_match partial\n/m);
    t.regex(track, /^ +full_command\n/m);
    t.regex(track, new RegExp(`^ +weight ${plan.keepalived.track.weight}\\n`, 'm'));
    // Tracked by the (single) instance, beside the script.
    t.regex(block(conf, 'vrrp_instance k8s_api_vip'), /track_process \{\n +haproxy_process\n/);
    t.regex(block(conf, 'vrrp_instance k8s_api_vip'), /track_script \{\n +check_apiserver\n/);
    t.true(pod(r, 'keepalived').spec!.hostPID);
    t.falsy(pod(r, 'haproxy').spec!.hostPID);
    const res = ns.keepalivedCheck(conf, [r.node.interface], file(r, '/etc/keepalived/check_apiserver.sh')!);
    t.true(res.ok, `${r.node.name}: ${res.output}`);
    t.notRegex(res.output, /Unknown keyword/, `${r.node.name}: ${res.output}`);
  }
  // Each node's match names that node alone (the lab's nodes share one process table).
  t.is(new Set(cps.map((r) => block(file(r, '/etc/keepalived/keepalived.conf')!, 'vrrp_track_process haproxy_process'))).size, 3);
});

test('HAProxy accepts the trackProcess command line (haproxy -c with the pod\'s own argv)', (t) => {
  const { plan } = loadProfile(`${LAB}lab-fast-track.toml`);
  const r = renderCluster(plan, FIXTURE_SECRETS).find((x) => x.node.vrrp)!;
  const { dir, cleanup } = tempDir('k8s-ha-trackp-');
  t.teardown(cleanup);
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, file(r, '/etc/haproxy/haproxy.cfg')!);
  const argv = pod(r, 'haproxy').spec!.containers[0]!.command!.map((a) => (a === '/etc/haproxy/haproxy.cfg' ? cfg : a));
  const res = spawnSync(argv[0]!, [...argv.slice(1), '-c'], { encoding: 'utf8' });
  t.is(res.error, undefined, 'haproxy is not installed: apt-get install -y haproxy');
  t.is(res.status, 0, `${res.stdout}${res.stderr}`);
});

test('trackProcess is off by default: no vrrp_track_process, no hostPID, one HAProxy manifest for every node', (t) => {
  const { plan } = loadProfile(`${LAB}lab-fast.toml`);
  t.false(plan.keepalived.trackProcess);
  const cps = renderCluster(plan, FIXTURE_SECRETS).filter((r) => r.node.vrrp);
  for (const r of cps) {
    t.notRegex(file(r, '/etc/keepalived/keepalived.conf')!, /track_process/);
    t.falsy(pod(r, 'keepalived').spec!.hostPID);
  }
  t.is(new Set(cps.map((r) => file(r, '/etc/kubernetes/manifests/haproxy.yaml'))).size, 1);
});

test('dual stack with trackProcess: the sync group tracks the process (its weight kept), keepalived -t passes', (t) => {
  const text = `name = "ds"\n[vip]\naddresses = ["198.18.0.100", "fd00:18::100"]\nport = 7443\ninterface = "eth0"\nrouterId = 77\n[keepalived]\ntrackProcess = true\n[kubernetes]\nversion = "v1.31.2"\n${
    [1, 2, 3].map((i) => `[[nodes]]\nname = "cp-${i}"\naddress = "198.18.0.1${i}/24"\nsecondaryAddress = "fd00:18::1${i}/64"\n`).join('')}`;
  const { plan } = parseProfile('ds.toml', text, {});
  const ns = new Netns();
  t.teardown(() => ns.close());
  for (const r of renderCluster(plan, FIXTURE_SECRETS).filter((x) => x.node.vrrp)) {
    const conf = file(r, '/etc/keepalived/keepalived.conf')!;
    t.regex(block(conf, 'vrrp_sync_group k8s_api_vips'), /track_process \{\n +haproxy_process\n/);
    t.notRegex(block(conf, 'vrrp_instance k8s_api_vip'), /track_process/);
    t.notRegex(block(conf, 'vrrp_instance k8s_api_vip_ipv6'), /track_process/);
    const res = ns.keepalivedCheck(conf, [r.node.interface], file(r, '/etc/keepalived/check_apiserver.sh')!);
    t.true(res.ok, `${r.node.name}: ${res.output}`);
    t.notRegex(res.output, /Unknown keyword/, `${r.node.name}: ${res.output}`);
  }
});

test('HAProxy death with trackProcess costs master-down alone, not fall x interval more', (t) => {
  const timing = { advertInterval: 0.1, vrrpVersion: 3 as const, track: { interval: 1, fall: 1 } };
  const down = masterDownMs(130, 0.1, 3);
  t.is(failoverTimesMs(timing, 130).haproxyDeath, 1000 + down);
  t.is(failoverTimesMs({ ...timing, trackProcess: true }, 130).haproxyDeath, down);
});

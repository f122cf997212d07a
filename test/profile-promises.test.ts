/**
 * Checks that say what the profile will do (issue 17, item 3): the failover times its timing
 * implies (printed by check and render, warned about above 10 s, the same numbers the lab's
 * bounds come from); Ignition-only targets that could never get kubeadm; subnet checks that
 * say when they are off; a VIP on the subnet's network or broadcast address.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outageBoundsMs } from '../src/lab/bounds.js';
import { failoverTimesMs, formatProblems, parseProfile, type Problem } from '../src/index.js';
import { ROOT, cli } from './helpers/cli.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';

const LAB = readFileSync(join(ROOT, 'fixtures', 'lab', 'lab.toml'), 'utf8');
const BAREMETAL = readFileSync(join(ROOT, 'profiles', 'baremetal.toml'), 'utf8');

function load(text: string) {
  return parseProfile(text, { format: 'toml', source: 'p.toml', env: {} });
}
const codes = (r: ReturnType<typeof load>): string[] => (r.ok ? r.warnings : r.problems).map((p: Problem) => p.code);
const report = (r: ReturnType<typeof load>): string => formatProblems(r.source, r.ok ? r.warnings : r.problems, r.text);

test('failover times follow VRRP timing: master-down for power loss, fall x interval more for a dead HAProxy, the skew for a graceful stop', (t) => {
  // Defaults: advert_int 1 s (VRRPv2), next holder priority 140, track every 1 s, fall 1.
  const d = failoverTimesMs({ advertInterval: 1, vrrpVersion: 2, track: { interval: 1, fall: 1 } }, 140);
  const skew = ((256 - 140) / 256) * 1000;
  t.deepEqual(d, { holderPowerLoss: 3000 + skew, haproxyDeath: 1000 + 3000 + skew, gracefulStop: skew });
  // kubeadm's guide: interval 3, fall 10 -> 30 s before the priority even drops.
  const guide = failoverTimesMs({ advertInterval: 1, vrrpVersion: 2, track: { interval: 3, fall: 10 } }, 100);
  t.true(guide.haproxyDeath > 33_000 && guide.haproxyDeath < 34_000, String(guide.haproxyDeath));
  // VRRPv3 scales the skew by advert_int.
  t.is(failoverTimesMs({ advertInterval: 0.2, vrrpVersion: 3, track: { interval: 1, fall: 1 } }, 130).gracefulStop, ((256 - 130) * 0.2 * 1000) / 256);
});

test('check and render print the failover times; the lab bounds are never below them', (t) => {
  const r = cli(['check', 'fixtures/lab/lab.toml']);
  t.is(r.code, 0, r.stderr);
  const line = /^failover to cp-2 \(priority 140\), VIP unreachable for: holder power loss 3\.5 s, HAProxy death on the holder 4\.5 s, graceful stop 0\.5 s$/m;
  t.regex(r.stdout, line);
  const rendered = cli(['render', 'fixtures/lab/lab.toml', '--out', testDir(t), '--secrets', FIXTURE_SECRETS_FILE]);
  t.is(rendered.code, 0, rendered.stderr);
  t.regex(rendered.stdout, line);
  const loaded = load(LAB);
  if (!loaded.ok) return t.fail(report(loaded));
  for (const timing of [{}, { advertInterval: 2 }, { check: { interval: 3, fall: 10, timeout: 1, rise: 2 } }]) {
    const plan = { ...loaded.plan, keepalived: { ...loaded.plan.keepalived, ...('advertInterval' in timing ? timing : {}), track: { ...loaded.plan.keepalived.track, ...('check' in timing ? timing.check : {}) } } };
    const times = failoverTimesMs(plan.keepalived, 140);
    const bounds = outageBoundsMs(plan, 140);
    t.true(bounds['master-crash']! >= times.holderPowerLoss, JSON.stringify(timing));
    t.true(bounds['haproxy-dies']! >= times.haproxyDeath, `${JSON.stringify(timing)}: a bound below the promise would cry wolf`);
    t.true(bounds['master-stop']! >= times.gracefulStop, JSON.stringify(timing));
  }
});

test('kubeadm-guide timing (check every 3 s, fall 10) warns W110 with the time; the defaults do not', (t) => {
  const slow = load(LAB.replace('[kubernetes]', '[keepalived.check]\ninterval = 3\nfall = 10\n\n[kubernetes]'));
  t.true(slow.ok);
  t.true(codes(slow).includes('W_SLOW_FAILOVER'));
  t.regex(report(slow), /warning W110 at keepalived\.check: the VIP would be unreachable for 33\.5 s after HAProxy death on the holder \(over 10 s\)/);
  t.false(codes(load(LAB)).includes('W_SLOW_FAILOVER'));
  // advert_int 5 s: every failure but the graceful stop is slow.
  const adverts = load(LAB.replace('[kubernetes]', '[keepalived]\nadvertInterval = 5\n\n[kubernetes]'));
  t.regex(report(adverts), /W110 at keepalived\.advertInterval: the VIP would be unreachable for 15\.5 s after holder power loss, 16\.5 s after HAProxy death on the holder/);
});

test('an Ignition-only target without a way to get kubeadm and kubelet is an error with a hint', (t) => {
  const noSysext = BAREMETAL.replace(/^sysext = .*$/m, '');
  const r = load(noSysext);
  t.false(r.ok);
  t.regex(report(r), /error E036 at boot\.os: Flatcar has no kubeadm or kubelet, and nothing in the profile installs them on init, control-plane, worker nodes: they can never bootstrap\n(.*\n){2} {2}hint: add \[kubernetes\.sysext\]/);
  // A hook on some roles only: the others are named.
  const some = load(noSysext.replace('serviceSubnet = "10.96.0.0/12"', 'serviceSubnet = "10.96.0.0/12"\npreKubeadmCommands = [{ run = "install-k8s", roles = ["worker"] }]'));
  t.regex(report(some), /installs them on init, control-plane nodes/);
  // Hooks for every role, or the sysext: fine.
  t.true(load(noSysext.replace('serviceSubnet = "10.96.0.0/12"', 'serviceSubnet = "10.96.0.0/12"\npreKubeadmCommands = ["install-k8s"]')).ok);
  t.true(load(BAREMETAL).ok, 'the shipped profile brings a sysext');
  t.is(cli(['check', 'profiles/baremetal.toml']).code, 0);
});

test('node addresses without a prefix: a warning that the subnet checks are off', (t) => {
  const bare = load(LAB.replace(/address = "(198\.18\.0\.1[23])\/24"/g, 'address = "$1"'));
  t.true(bare.ok);
  t.regex(report(bare), /p\.toml:\d+:\d+: warning W109 at nodes\[1\]\.address: 2 control-plane addresses have no prefix length, so the subnet checks are off \(VIP inside the nodes' subnet, not its network or broadcast address\)\n(.*\n){2} {2}hint: write the address with its prefix length, e\.g\. 198\.18\.0\.12\/24/);
  t.false(codes(load(LAB)).includes('W_NO_PREFIX'));
});

test('a VIP on the network or broadcast address of the nodes\' subnet is an error; /31 has neither', (t) => {
  const vip = (v: string, prefix = 24) => load(LAB.replace('addresses = ["198.18.0.100"]', `addresses = ["${v}"]`).replace(/\/24"/g, `/${prefix}"`));
  t.regex(report(vip('198.18.0.255')), /error E029 at vip\.addresses\[0\]: VIP 198\.18\.0\.255 is the broadcast address of the nodes' subnet 198\.18\.0\.0\/24/);
  t.regex(report(vip('198.18.0.0')), /error E029 at vip\.addresses\[0\]: VIP 198\.18\.0\.0 is the network address of the nodes' subnet 198\.18\.0\.0\/24/);
  t.is(codes(vip('198.18.0.0')).filter((c) => c === 'E_VIP_RESERVED').length, 1, 'reported once, not once per node');
  t.regex(report(vip('198.18.0.15', 28)), /VIP 198\.18\.0\.15 is the broadcast address of the nodes' subnet 198\.18\.0\.0\/28/);
  t.true(vip('198.18.0.254').ok);
  const v6 = readFileSync(join(ROOT, 'fixtures', 'profiles', 'ipv6.yaml'), 'utf8').replace('2001:db8:10::100', '2001:db8:10::');
  const r6 = parseProfile(v6, { format: 'yaml', env: {} });
  t.regex(formatProblems('v6', r6.ok ? [] : r6.problems), /E029 at vip\.addresses\[0\]: VIP 2001:db8:10:: is the network address of the nodes' subnet 2001:db8:10::\/64/);
});

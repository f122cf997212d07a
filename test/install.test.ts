/**
 * `[install]` rendering and rules (its effect on a booted Debian 12 is in test/boot.test.ts):
 * cloud-init runs the install script before the bootstrap; the script passes shellcheck and
 * pins kubeadm's pause image; Ignition outputs never carry it; Flatcar/Fedora CoreOS targets
 * and pre-release versions are refused with a hint.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { cloudInitCheck, shellcheck, testDir } from './helpers/tools.js';
import { seedProfileWith } from './helpers/user-content.js';
import { INSTALL_SCRIPT, installScript, pauseImage } from '../src/components/install.js';
import { decodeCloudInit, decodeIgnition } from '../src/formats/decode.js';

const INSTALL = '[install]\nenabled = true\n';
const render = (dir: string, profile: string) => cli(['render', profile, '--out', join(dir, 'out'), '--secrets', join(dir, 's.json')]);

test('cloud-init runs the install script, then the bootstrap; Ignition carries neither its files nor its command', (t) => {
  const dir = testDir(t);
  const r = render(dir, seedProfileWith(dir, INSTALL, {}));
  t.is(r.code, 0, r.stderr);
  const ud = readFileSync(join(dir, 'out', 'k8s-cp-2', 'user-data'), 'utf8');
  const check = cloudInitCheck(ud);
  t.true(check.ok, check.output);
  t.true(ud.includes(`runcmd:\n  - - ${INSTALL_SCRIPT}\n  - - /etc/k8s-ha/bootstrap.sh\n`), ud.slice(-300));
  const files = decodeCloudInit(ud).map((f) => f.path);
  for (const p of [INSTALL_SCRIPT, '/etc/modules-load.d/k8s-ha.conf', '/etc/sysctl.d/99-k8s-ha.conf', '/etc/crictl.yaml']) t.true(files.includes(p), p);
  const ign = readFileSync(join(dir, 'out', 'k8s-cp-2', 'config.ign'), 'utf8');
  t.false(ign.includes('install.sh') || decodeIgnition(ign).some((f) => f.path.includes('k8s-ha.conf')));
});

test('the install script passes shellcheck, pins the exact version from its minor\'s repository, holds it', (t) => {
  const s = installScript('v1.31.2');
  const sc = shellcheck(s);
  t.true(sc.ok, sc.output);
  t.true(s.includes("'https://pkgs.k8s.io/core:/stable:/v1.31/deb/Release.key'"));
  t.true(s.includes('"kubelet=$v" "kubeadm=$v" "kubectl=$v"'));
  t.true(s.includes('apt-mark hold kubelet kubeadm kubectl'));
  t.true(s.includes("set_pause 'registry.k8s.io/pause:3.10'"));
  t.throws(() => installScript('v1.32.0-rc.1'), { message: /stable releases only/ });
  t.deepEqual(['v1.25.0', 'v1.26.3', 'v1.30.5', 'v1.31.0', 'v1.33.1', 'v1.34.0'].map(pauseImage), [
    'registry.k8s.io/pause:3.8',
    'registry.k8s.io/pause:3.9',
    'registry.k8s.io/pause:3.9',
    'registry.k8s.io/pause:3.10',
    'registry.k8s.io/pause:3.10',
    'registry.k8s.io/pause:3.10.1',
  ]);
});

for (const [os, hint] of [['flatcar', /kubernetes\.sysext/], ['fcos', /rpm-ostree/]] as const) {
  test(`[install] on a ${os} target is refused with the way ${os} gets kubeadm`, (t) => {
    const dir = testDir(t);
    const profile = seedProfileWith(dir, `${INSTALL}\n[boot]\nos = "${os}"\nassetsUrl = "http://198.18.0.1/assets"\nconfigUrl = "http://198.18.0.1/k8s"\n`, {});
    const r = render(dir, profile);
    t.is(r.code, 1);
    t.regex(r.stderr, /p\.toml:\d+:\d+: error E052 at install\.enabled: \[install\] installs with cloud-init and apt/);
    t.regex(r.stderr, hint);
    t.false(existsSync(join(dir, 'out')));
  });
}

test('[install] with a pre-release version is refused', (t) => {
  const dir = testDir(t);
  const profile = seedProfileWith(dir, INSTALL, {});
  const text = readFileSync(profile, 'utf8').replace('version = "v1.31.2"', 'version = "v1.32.0-rc.1"');
  writeFileSync(profile, text);
  const r = render(dir, profile);
  t.is(r.code, 1);
  t.regex(r.stderr, /error E052 at kubernetes\.version: \[install\] takes kubeadm v1\.32\.0-rc\.1 from pkgs\.k8s\.io, which has stable releases only/);
});

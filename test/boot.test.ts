/**
 * A real first boot of k8s-ha's outputs: a Debian 12 root file system (debootstrap, cached in
 * /var/cache/k8s-ha-test/, see helpers/rootfs.ts) booted with systemd as PID 1
 * (systemd-nspawn --boot), every check made from inside the booted system.
 *
 * - cloud-init: the rendered NoCloud seed (user-data, meta-data) in
 *   /var/lib/cloud/seed/nocloud/; all cloud-init stages run for real.
 * - Ignition: config.ign applied by the real Ignition (fetch-offline, files stages) into the
 *   root, then booted: k8s-ha-bootstrap.service must be enabled, start after
 *   network-online.target and run once.
 *
 * The profile is the seed profile plus an SSH key, a login user and the user's own
 * cloud-config and Ignition (helpers/user-content.ts). The images carry no kubeadm, so the
 * bootstrap must stop with "missing prerequisites" in the journal and leave no marker.
 * containerd is in the cached image (for the [install] test) but masked here, as on a stock
 * image without a container runtime. Everything started is stopped and removed, also on failure.
 */
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { applyIgnition, bootContainer, cloudInitFinished, systemReady, waitFor, type Booted } from './helpers/boot.js';
import { debianRootfs, overlay } from './helpers/rootfs.js';
import { testDir } from './helpers/tools.js';
import { ED25519, seedProfileWith } from './helpers/user-content.js';
import { cloudConfigParts } from '../src/formats/mime.js';
import { decodeCloudInit, decodeIgnition } from '../src/formats/decode.js';
import type { NodeFile } from '../src/model.js';

const NODE = 'k8s-cp-1';
const PROFILE_EXTRA = `[ssh]\nuser = "ops"\nauthorizedKeys = ["${ED25519}"]\n\n[userContent]\ncloudConfig = "extra.yaml"\nignition = "extra.ign"\n`;
/** Bound on the first boot up to cloud-init's final stage (about a minute measured on a loaded 2-core machine). */
const BOOT_TIMEOUT_MS = 5 * 60_000;

/** Renders the boot profile into `dir/out`; returns the init node's output directory. */
function renderBootProfile(t: ExecutionContext, dir: string, extra = ''): string {
  const profile = seedProfileWith(dir, `${PROFILE_EXTRA}${extra}`);
  const r = cli(['render', profile, '--out', join(dir, 'out'), '--secrets', join(dir, 's.json')]);
  t.is(r.code, 0, r.stderr);
  return join(dir, 'out', NODE);
}

/** A fresh overlay of the cached Debian 12 root, removed (with the container) when the test ends. */
function freshRoot(t: ExecutionContext): string {
  const started = Date.now();
  const { path, built } = debianRootfs();
  t.log(built ? `built the Debian 12 root file system in ${((Date.now() - started) / 1000).toFixed(0)} s (cached for later runs)` : `cached Debian 12 root file system: ${path}`);
  const o = overlay(path);
  t.teardown(o.cleanup);
  return o.root;
}

/** Boots `root`; the container is powered off when the test ends, before the overlay is removed. */
async function boot(t: ExecutionContext, root: string): Promise<Booted> {
  const c = await bootContainer(root);
  // ava runs teardowns last-registered first: the container stops before its root goes.
  t.teardown(() => c.stop());
  return c;
}

/** The stock image has no container runtime: containerd (in the cached image) is masked. */
function maskContainerd(root: string): void {
  symlinkSync('/dev/null', join(root, 'etc/systemd/system/containerd.service'));
}

/**
 * The common start of a boot test: render the boot profile, read the init node's `output`,
 * make a fresh overlay root without a container runtime.
 */
function prepare(t: ExecutionContext, output: 'user-data' | 'config.ign', extra = ''): { dir: string; out: string; text: string; root: string } {
  const dir = testDir(t);
  const out = renderBootProfile(t, dir, extra);
  const text = readFileSync(join(out, output), 'utf8');
  const root = freshRoot(t);
  if (extra === '') maskContainerd(root);
  return { dir, out, text, root };
}

/** Puts the node's NoCloud seed into `root` and boots it until cloud-init's final stage is done. */
async function bootNoCloud(t: ExecutionContext, out: string, root: string): Promise<Booted | undefined> {
  const seed = join(root, 'var/lib/cloud/seed/nocloud');
  mkdirSync(seed, { recursive: true });
  for (const f of ['user-data', 'meta-data']) writeFileSync(join(seed, f), readFileSync(join(out, f)));
  // The minbase image has no locales: cloud-init's locale module would fail on en_US.UTF-8.
  writeFileSync(join(root, 'etc/cloud/cloud.cfg.d/91-k8s-ha-test-locale.cfg'), 'locale: C.UTF-8\n');
  const started = Date.now();
  const c = await boot(t, root);
  const finished = await waitFor(() => cloudInitFinished(root), BOOT_TIMEOUT_MS);
  t.log(`first boot to cloud-init's final stage: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.true(finished, `cloud-init did not finish:\n${c.console().slice(-4000)}`);
  return finished ? c : undefined;
}

/** Each file's mode (octal), owner and SHA-256, read inside the container. */
function statInside(c: Booted, paths: string[]): Map<string, string> {
  const r = c.exec(['sh', '-c', 'for f; do printf "%s %s %s\\n" "$f" "$(stat -c "%a %U:%G" "$f")" "$(sha256sum <"$f" | cut -d" " -f1)"; done', 'sh', ...paths]);
  return new Map(r.stdout.trim().split('\n').map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]));
}

function expectFiles(t: ExecutionContext, c: Booted, files: NodeFile[]): void {
  const got = statInside(c, files.map((f) => f.path));
  for (const f of files) t.is(got.get(f.path), `${f.mode.toString(8)} root:root ${sha256(f.content)}`, f.path);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test.serial('cloud-init first boot: hostname, files, SSH key, the user\'s content first, then one bootstrap that names the missing prerequisites', async (t) => {
  const { out, text: userData, root } = prepare(t, 'user-data');
  const c = await bootNoCloud(t, out, root);
  if (!c) return;

  // cloud-init finished; the one failing module is the runcmd script (the bootstrap's exit 1).
  const status = c.exec(['cloud-init', 'status', '--long']).stdout;
  t.regex(status, /^status: error$/m, status);
  t.deepEqual(
    [...status.matchAll(/^\('([a-z_-]+)'/gm)].map((m) => m[1]),
    ['scripts-user'],
    status,
  );
  t.is(c.exec(['hostname']).stdout.trim(), NODE);

  // Every file k8s-ha manages, with its mode, owner and exact content.
  const [userPart, ours] = cloudConfigParts(userData);
  expectFiles(t, c, decodeCloudInit(ours!));
  // The user's own file.
  t.is(statInside(c, ['/etc/k8s-ha-user/hello.txt']).get('/etc/k8s-ha-user/hello.txt'), `640 root:root ${sha256("hello from the user's cloud-config\n")}`);
  t.true(userPart!.includes('/etc/k8s-ha-user/hello.txt'));
  // The SSH key, in the login user's authorized_keys; the user may sudo; no password.
  const keys = c.exec(['sh', '-c', 'stat -c "%a %U" /home/ops/.ssh/authorized_keys && cat /home/ops/.ssh/authorized_keys']).stdout;
  t.is(keys, `600 ops\n${ED25519}\n`);
  t.regex(c.exec(['getent', 'shadow', 'ops']).stdout, /^ops:!/, 'locked password');
  t.regex(c.exec(['cat', '/etc/sudoers.d/90-cloud-init-users']).stdout, /^ops ALL=\(ALL\) NOPASSWD:ALL$/m);

  // Order: the user's bootcmd and runcmd, then k8s-ha's bootstrap, which ran once.
  t.is(c.exec(['cat', '/run/k8s-ha-user-order']).stdout, 'user-bootcmd\nuser-runcmd\n');
  const journal = c.exec(['journalctl', '-t', 'k8s-ha', '-t', 'k8s-ha-user', '-o', 'cat', '--no-pager']).stdout.trim().split('\n');
  t.is(journal[0], 'user-runcmd', journal.join('\n'));
  const missing = journal.filter((l) => l.includes('missing prerequisites'));
  t.is(missing.length, 1, journal.join('\n'));
  t.regex(missing[0] ?? '', /^ERROR: missing prerequisites: kubeadm kubelet CRI-socket\(/);
  t.is(c.exec(['test', '-e', '/var/lib/k8s-ha/bootstrap.done']).code, 1, 'no success marker');
  expectPreflightRan(t, journal);
});

/**
 * The VRRP preflight ran before the prerequisite check and raised no false alarm: this image
 * has no tcpdump, so it warns with the install command and lets the bootstrap go on.
 */
function expectPreflightRan(t: ExecutionContext, journal: string[]): void {
  const at = journal.findIndex((l) => /^vrrp-preflight: WARNING: tcpdump not found: VRRP preflight skipped.*apt-get install -y tcpdump/.test(l));
  t.true(at >= 0, journal.join('\n'));
  t.true(at < journal.findIndex((l) => l.includes('missing prerequisites')), 'the preflight runs before the prerequisite check');
  t.false(journal.some((l) => /COLLISION|VRRP preflight failed/.test(l)), journal.join('\n'));
}

test.serial('Ignition first boot: files and users by the real Ignition, then k8s-ha-bootstrap.service enabled, after network-online, once', async (t) => {
  const { dir, text: config, root } = prepare(t, 'config.ign');
  // An Ignition system has no cloud-init: keep Debian's from running.
  writeFileSync(join(root, 'etc/cloud/cloud-init.disabled'), '');
  const work = join(dir, 'ignition');
  mkdirSync(work);
  const log = applyIgnition(config, root, work);
  t.regex(log, /Ignition finished successfully/);
  // Ignition enabled the units through a preset, which systemd applies on this first boot.
  t.regex(readFileSync(join(root, 'etc/systemd/system-preset/20-ignition.preset'), 'utf8'), /^enable k8s-ha-bootstrap\.service$/m);

  const started = Date.now();
  const c = await boot(t, root);
  const state = await systemReady(c, BOOT_TIMEOUT_MS);
  t.log(`Ignition-provisioned boot to ${state}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.regex(state, /^(running|degraded)$/, c.console().slice(-4000));

  expectFiles(t, c, decodeIgnition(config));
  const show = (unit: string, props: string[]) =>
    Object.fromEntries(c.exec(['systemctl', 'show', unit, ...props.map((p) => `-p${p}`)]).stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const unit = show('k8s-ha-bootstrap.service', ['UnitFileState', 'After', 'Wants', 'ActiveState', 'Result', 'ExecMainStatus', 'NRestarts', 'ExecMainStartTimestampMonotonic']);
  const online = show('network-online.target', ['ActiveEnterTimestampMonotonic']);
  t.is(unit.UnitFileState, 'enabled');
  t.true(unit.After!.split(' ').includes('network-online.target') && unit.Wants!.split(' ').includes('network-online.target'), unit.After);
  t.true(Number(unit.ExecMainStartTimestampMonotonic) >= Number(online.ActiveEnterTimestampMonotonic) && Number(online.ActiveEnterTimestampMonotonic) > 0, JSON.stringify({ unit, online }));
  // It ran once and failed on the missing prerequisites (no kubeadm in this image).
  t.is(unit.NRestarts, '0');
  t.is(unit.Result, 'exit-code');
  t.is(unit.ExecMainStatus, '1');
  const journal = c.exec(['journalctl', '-t', 'k8s-ha', '-o', 'cat', '--no-pager']).stdout.trim().split('\n');
  t.is(journal.filter((l) => l.includes('missing prerequisites')).length, 1, journal.join('\n'));
  t.is(c.exec(['test', '-e', '/var/lib/k8s-ha/bootstrap.done']).code, 1, 'no success marker');
  expectPreflightRan(t, journal);

  // The user's merged Ignition: its file, and its unit enabled and run.
  t.is(c.exec(['cat', '/etc/k8s-ha-user/ignition.txt']).stdout, "hello from the user's Ignition\n");
  t.is(show('k8s-ha-user.service', ['UnitFileState']).UnitFileState, 'enabled');
  t.is(c.exec(['cat', '/run/k8s-ha-user-unit']).stdout, 'user-unit\n');
  // The key, where Ignition puts it (authorized_keys.d, read by Flatcar's and Fedora CoreOS's sshd).
  t.is(c.exec(['cat', '/home/ops/.ssh/authorized_keys.d/ignition']).stdout, `${ED25519}\n`);
});

test.serial('[install] first boot: modules, sysctls, swap and containerd from Debian take effect; the pkgs.k8s.io step fails clearly', async (t) => {
  const { out, text: userData, root } = prepare(t, 'user-data', '\n[install]\nenabled = true\n');
  // A swap line the install must comment out (the file does not exist: nothing is swapped on).
  writeFileSync(join(root, 'etc/fstab'), '# <file system> <mount point> <type> <options> <dump> <pass>\n/swap.img none swap sw 0 0\n');
  const c = await bootNoCloud(t, out, root);
  if (!c) return;
  expectFiles(t, c, decodeCloudInit(cloudConfigParts(userData)[1]!));
  t.is(c.exec(['cat', '/proc/sys/net/ipv4/ip_forward']).stdout, '1\n', 'sysctl applied now');
  t.is(c.exec(['cat', '/etc/fstab']).stdout.split('\n')[1], '#/swap.img none swap sw 0 0');
  const toml = c.exec(['cat', '/etc/containerd/config.toml']).stdout;
  t.regex(toml, /^\s*SystemdCgroup = true$/m);
  t.regex(toml, /^\s*sandbox_image = "registry\.k8s\.io\/pause:3\.10"$/m);
  t.is(c.exec(['systemctl', 'is-active', 'containerd.service']).stdout.trim(), 'active');
  const journal = c.exec(['journalctl', '-t', 'k8s-ha', '-o', 'cat', '--no-pager']).stdout.trim().split('\n');
  const text = journal.join('\n');
  t.regex(text, /install: containerd configured: SystemdCgroup = true, registry\.k8s\.io\/pause:3\.10/);
  // No network here: the step that needs the Kubernetes package repository fails, saying so.
  const failed = journal.findIndex((l) => /^install: ERROR: cannot reach the Kubernetes package repository https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.31\/deb\/ /.test(l));
  t.true(failed >= 0, text);
  // Then the bootstrap runs and names what is still missing: no CRI socket any more.
  const missing = journal.findIndex((l) => l.startsWith('ERROR: missing prerequisites: kubeadm kubelet ('));
  t.true(missing > failed, text);
  t.is(c.exec(['test', '-e', '/var/lib/k8s-ha/bootstrap.done']).code, 1, 'no success marker');
});

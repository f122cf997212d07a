/**
 * A Debian 12 root file system for the first-boot tests (test/boot.test.ts), built with
 * debootstrap from Debian's archive and cached outside the source tree, in
 * /var/cache/k8s-ha-test/ (override: K8S_HA_TEST_CACHE), under a name that carries a hash of
 * the recipe, so a changed recipe builds a new one. Tests never boot the cached tree itself:
 * they boot a throwaway overlay of it (see {@link overlay}).
 *
 * Recipe (shared/notes/cloud-init-ignition-pxe.md, "Booting the output for real"): a minbase
 * debootstrap with systemd as init (debootstrap does not resolve the virtual packages
 * cloud-init's dependencies need), then `apt-get install` inside it of cloud-init,
 * openssh-server and the rest. containerd is in the image so the `[install]` steps that need
 * only Debian's archive can be checked without a network (apt-get finds it installed).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { pidAlive } from '../../src/system.js';
import { join } from 'node:path';
import { run } from './tools.js';

/** Where cached root file systems live (never in the source tree). */
export const CACHE_DIR = process.env.K8S_HA_TEST_CACHE ?? '/var/cache/k8s-ha-test';

const MIRROR = 'http://deb.debian.org/debian';
const BASE = ['systemd', 'systemd-sysv', 'dbus', 'ca-certificates'];
const PACKAGES = ['cloud-init', 'openssh-server', 'sudo', 'iproute2', 'containerd', 'kmod', 'procps', 'curl', 'gnupg'];

/** The build, as one sh script run under `flock` (parallel test files wait for one build). */
const RECIPE = [
  'set -eu',
  `debootstrap --variant=minbase --include=${BASE.join(',')} bookworm "$TMP" ${MIRROR} >"$TMP.log" 2>&1 || { tail -20 "$TMP.log" >&2; exit 1; }`,
  // No daemon starts inside the chroot while packages are installed.
  "printf '#!/bin/sh\\nexit 101\\n' >\"$TMP/usr/sbin/policy-rc.d\"",
  'chmod 0755 "$TMP/usr/sbin/policy-rc.d"',
  'chroot "$TMP" apt-get update -qq',
  `DEBIAN_FRONTEND=noninteractive chroot "$TMP" apt-get install -y -qq --no-install-recommends ${PACKAGES.join(' ')} >>"$TMP.log" 2>&1 || { tail -20 "$TMP.log" >&2; exit 1; }`,
  'chroot "$TMP" apt-get clean',
  'rm -f "$TMP/usr/sbin/policy-rc.d" "$TMP.log"',
  // Every boot of an overlay is a first boot (systemd presets, a new machine-id), as on a cloud image.
  'rm -f "$TMP/etc/machine-id" "$TMP/var/lib/dbus/machine-id"',
  // The container has no configured NIC: waiting for one would hang network-online.target.
  'ln -sf /dev/null "$TMP/etc/systemd/system/systemd-networkd-wait-online.service"',
  // Only the NoCloud seed directory: no probing of cloud metadata services.
  "printf 'datasource_list: [ NoCloud, None ]\\n' >\"$TMP/etc/cloud/cloud.cfg.d/90-k8s-ha-test.cfg\"",
  'mv "$TMP" "$DEST"',
].join('\n');

/** Cache key: the recipe's hash (a changed recipe never reuses an old tree). */
export const ROOTFS_NAME = `debian12-${createHash('sha256').update(RECIPE).digest('hex').slice(0, 12)}`;

/**
 * The cached root file system's path, built first when absent (a few minutes; needs root,
 * debootstrap and the network to Debian's archive).
 * @returns `{ path, built }`: built is true when this call ran debootstrap.
 * @throws Error naming the apt-get package when debootstrap or flock is missing, or with the
 *   tail of the build log when the build fails.
 */
export function debianRootfs(): { path: string; built: boolean } {
  const dest = join(CACHE_DIR, ROOTFS_NAME);
  if (existsSync(dest)) return { path: dest, built: false };
  mkdirSync(CACHE_DIR, { recursive: true });
  if (run('sh', ['-c', 'command -v debootstrap']).code !== 0)
    throw new Error('debootstrap is not installed: run `apt-get install -y debootstrap` (the boot test builds a Debian 12 root file system with it)');
  const tmp = `${dest}.tmp-${process.pid}`;
  // Inside the lock: another process may have built it meanwhile.
  const script = `if [ -e "$DEST" ]; then exit 0; fi\nrm -rf "$TMP" "$TMP.log"\n${RECIPE}`;
  const r = run('flock', [join(CACHE_DIR, '.lock'), 'sh', '-c', script], { env: { ...process.env, TMP: tmp, DEST: dest }, timeout: 30 * 60_000 });
  if (r.code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building the Debian 12 root file system failed (exit ${r.code}): ${r.stderr}`);
  }
  return { path: dest, built: true };
}

/**
 * Unmounts and removes the overlays of test processes that no longer run (a worker killed by
 * a timeout cannot run its teardown); those of live processes stay.
 */
function reapStaleOverlays(): void {
  for (const d of existsSync(CACHE_DIR) ? readdirSync(CACHE_DIR) : []) {
    const m = /^boot-(\d+)-/.exec(d);
    if (!m || pidAlive(Number(m[1]))) continue;
    run('umount', ['-l', join(CACHE_DIR, d, 'root')]);
    rmSync(join(CACHE_DIR, d), { recursive: true, force: true });
  }
}

/**
 * A writable overlay of `lower` (mount -t overlay) in a fresh temporary directory.
 * @returns the merged root and a cleanup that unmounts it and removes every layer (idempotent).
 */
export function overlay(lower: string): { root: string; cleanup: () => void } {
  reapStaleOverlays();
  const base = mkdtempSync(join(CACHE_DIR, `boot-${process.pid}-`));
  // Ignition creates a user's ~/.ssh as that user: every directory above must be searchable.
  chmodSync(base, 0o755);
  const [upper, work, root] = ['upper', 'work', 'root'].map((d) => join(base, d)) as [string, string, string];
  for (const d of [upper, work, root]) mkdirSync(d);
  const m = run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, root]);
  if (m.code !== 0) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`mount -t overlay failed: ${m.stderr}`);
  }
  let done = false;
  return {
    root,
    cleanup: () => {
      if (done) return;
      done = true;
      // Lazy unmount: a process still holding a file must not keep the layers on disk.
      run('umount', ['-l', root]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

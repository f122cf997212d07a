/**
 * Booting a root file system with systemd as PID 1 in a container (systemd-nspawn --boot), for
 * the first-boot tests. On a machine not booted with systemd (CI containers, this one),
 * nspawn needs `--register=no --keep-unit` (shared/notes/cloud-init-ignition-pxe.md).
 * `--private-network`: the container has only a loopback interface, so nothing it does
 * reaches any network, and no interface appears on the host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasTool } from './tools.js';

/** A booted container: its root, PID 1 (host PID) and console output so far. */
export interface Booted {
  root: string;
  leader: number;
  console: () => string;
  /** Runs a command inside (all of the container's namespaces), returns exit code and output. */
  exec: (argv: string[]) => { code: number; stdout: string; stderr: string };
  /** Powers the container off (SIGTERM to nspawn: an orderly shutdown), SIGKILL after `graceMs`; idempotent. */
  stop: (graceMs?: number) => Promise<void>;
}

let counter = 0;

/**
 * Boots `root` with `systemd-nspawn --boot` and waits until its PID 1 runs.
 * @throws Error naming the package when systemd-nspawn or nsenter is missing, or when the
 *   container does not start within 60 s (with its console output).
 */
export async function bootContainer(root: string): Promise<Booted> {
  if (!hasTool('systemd-nspawn')) throw new Error('systemd-nspawn is not installed: run `apt-get install -y systemd-container` (the boot test boots a Debian 12 root file system with it)');
  if (!hasTool('nsenter')) throw new Error('nsenter is not installed: run `apt-get install -y util-linux`');
  const name = `k8sha-boot-${process.pid}-${++counter}`;
  let out = '';
  const child: ChildProcess = spawn('systemd-nspawn', ['-D', root, '--boot', '--register=no', '--keep-unit', '--private-network', '--console=read-only', '-M', name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stopped = false;
  const stop = async (graceMs = 30_000) => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  let leader = 0;
  for (let i = 0; i < 600 && leader === 0; i++) {
    if (child.exitCode !== null) break;
    const kids = existsSync(`/proc/${child.pid}/task/${child.pid}/children`) ? readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim() : '';
    const pid = kids === '' ? 0 : Number(kids.split(' ')[0]);
    // The first child may still be nspawn's own helper: wait for systemd to be PID 1 inside.
    if (pid !== 0 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') leader = pid;
    else await sleep(100);
  }
  if (leader === 0) {
    await stop();
    throw new Error(`systemd-nspawn did not start the container:\n${out}`);
  }
  const exec = (argv: string[]) => {
    const r = spawnSync('nsenter', ['-t', String(leader), '-m', '-u', '-i', '-n', '-p', '--', ...argv], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  return { root, leader, console: () => out, exec, stop };
}

/**
 * Polls `ready` every 500 ms until it is true; false after `timeoutMs`.
 */
export async function waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (ready()) return true;
    await sleep(500);
  }
  return ready();
}

/**
 * True once cloud-init's final stage has finished in `root`: its boot-finished file exists
 * (`/var/lib/cloud/instance` is an absolute symlink, so the instances are searched instead).
 * `cloud-init status --wait` is no use: 22.4 returns as soon as a module has failed.
 */
export function cloudInitFinished(root: string): boolean {
  const dir = join(root, 'var/lib/cloud/instances');
  return existsSync(dir) && readdirSync(dir).some((i) => existsSync(join(dir, i, 'boot-finished')));
}

/** Waits until systemd in the container reports `running` or `degraded` (start-up done); the state, or `timeout`. */
export async function systemReady(c: Booted, timeoutMs: number): Promise<string> {
  let state = '';
  await waitFor(() => {
    state = c.exec(['systemctl', 'is-system-running']).stdout.trim();
    return state === 'running' || state === 'degraded';
  }, timeoutMs);
  return state || 'timeout';
}

/** Debian's Ignition binary (package `ignition`), outside PATH: it lives in the dracut module. */
export const IGNITION_BIN = '/usr/lib/dracut/modules.d/30ignition/ignition';

/**
 * Applies an Ignition config to `root` with the real Ignition, as its initramfs would on first
 * boot: stage fetch-offline (`-platform file`, IGNITION_CONFIG_FILE), then stage files with
 * `-root`. The files stage relabels for SELinux at the end: `root` gets an
 * /etc/selinux/config with SELINUX=disabled and SELINUXTYPE, and a no-op `setfiles` comes
 * first on PATH. `work` (created by the caller) holds the cache, state and logs.
 * @returns Ignition's log of both stages.
 * @throws Error with the log when a stage fails, or naming the package when Ignition is missing.
 */
export function applyIgnition(config: string, root: string, work: string): string {
  if (!existsSync(IGNITION_BIN)) throw new Error(`${IGNITION_BIN} is missing: run \`apt-get install -y ignition\``);
  mkdirSync(join(root, 'etc', 'selinux'), { recursive: true });
  writeFileSync(join(root, 'etc', 'selinux', 'config'), 'SELINUX=disabled\nSELINUXTYPE=targeted\n');
  mkdirSync(join(work, 'bin'), { recursive: true });
  writeFileSync(join(work, 'bin', 'setfiles'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  writeFileSync(join(work, 'config.ign'), config);
  const env = { ...process.env, PATH: `${join(work, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, IGNITION_CONFIG_FILE: join(work, 'config.ign') };
  const common = ['-platform', 'file', '-config-cache', join(work, 'cache.json'), '-state-file', join(work, 'state'), '-log-to-stdout'];
  let log = '';
  for (const stage of [['-stage', 'fetch-offline', '-neednet', join(work, 'neednet')], ['-stage', 'files', '-root', root]]) {
    const r = spawnSync(IGNITION_BIN, [...stage, ...common], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
    log += `${String(r.stdout)}${String(r.stderr)}`;
    if (r.status !== 0) throw new Error(`ignition ${stage[1]} failed (exit ${r.status}):\n${log.split('\n').slice(-30).join('\n')}`);
  }
  return log;
}

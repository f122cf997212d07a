/**
 * Running the real consumers (cloud-init, ignition-validate, haproxy, keepalived) from tests.
 * A missing tool fails the test with the command that installs it; it is never skipped.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian package that provides each tool the suite runs. */
export const PACKAGES: Record<string, string> = {
  'cloud-init': 'cloud-init',
  'ignition-validate': 'ignition',
  haproxy: 'haproxy',
  keepalived: 'keepalived',
  ip: 'iproute2',
  unshare: 'util-linux',
  openssl: 'openssl',
  curl: 'curl',
  shellcheck: 'shellcheck',
  sh: 'dash',
  'systemd-analyze': 'systemd',
  dnsmasq: 'dnsmasq-base',
  xorriso: 'xorriso',
  genisoimage: 'genisoimage',
  isoinfo: 'genisoimage',
};

/** Result of {@link run}. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command synchronously and captures its output.
 * @throws Error naming the apt-get package when the program is not installed.
 */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    const pkg = PACKAGES[cmd] ?? cmd;
    throw new Error(`${cmd} is not installed: run \`apt-get install -y ${pkg}\` (the suite checks outputs with the real program; it does not skip)`);
  }
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Like {@link run}, but throws with stderr unless the exit code is 0; returns stdout. */
export function runOk(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix = 'k8s-ha-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let nsCounter = 0;

/**
 * Runs `keepalived -t` on a node's /etc/keepalived directory the way the static pod sees it:
 * in a throwaway network namespace that has the node's interface (a veth; this kernel has no
 * dummy links) and a private mount namespace with the directory bind-mounted at
 * /etc/keepalived (keepalived refuses a missing interface or track script).
 * The namespace is always deleted, also when keepalived fails.
 */
export function keepalivedConfigTest(keepalivedDir: string, iface: string): RunResult {
  const ns = `k8sha-t${process.pid}-${nsCounter++}`;
  const peer = `p${process.pid % 100000}x${nsCounter}`.slice(0, 15);
  try {
    const steps: [string, string[]][] = [
      ['ip', ['netns', 'add', ns]],
      ['ip', ['-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', peer]],
      ['ip', ['-n', ns, 'link', 'set', iface, 'up']],
    ];
    for (const [c, a] of steps) {
      const r = run(c, a);
      if (r.code !== 0) throw new Error(`${c} ${a.join(' ')} failed: ${r.stderr}`);
    }
    return run('ip', ['netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/keepalived && exec keepalived -t -f /etc/keepalived/keepalived.conf', 'sh', keepalivedDir]);
  } finally {
    run('ip', ['netns', 'del', ns]);
  }
}

/**
 * For tests that call a program directly: true when `tool` (a name on PATH or an absolute
 * path) is installed; otherwise fails the test with the package to install, like {@link run}.
 */
export function requireTool(t: ExecutionContext, tool: string, aptPackage = PACKAGES[tool] ?? tool): boolean {
  if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0) return true;
  t.fail(`${tool} is not installed: run \`apt-get install -y ${aptPackage}\` (the suite checks outputs with the real program; it does not skip)`);
  return false;
}

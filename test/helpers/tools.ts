/**
 * Running the real consumers (cloud-init, ignition-validate, haproxy, keepalived) from tests.
 * A missing tool fails the test with the command that installs it; it is never skipped.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../../src/system.js';

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
  chromium: 'chromium',
  nft: 'nftables',
  tcpdump: 'tcpdump',
  arping: 'iputils-arping',
  busybox: 'busybox-static',
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
  // Output far beyond spawnSync's 1 MiB default is normal here (Chromium's DOM dump of a lab
  // report with 3 runs of 13 scenarios failed with ENOBUFS): allow 256 MiB for every tool.
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024, ...opts });
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

/** A temporary directory removed by the returned cleanup function (for helpers outside a test). */
export function tempDir(prefix = 'k8s-ha-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary directory for test `t`, removed when it ends, pass or fail (ava teardown). */
export function testDir(t: { teardown(fn: () => void): void }, prefix = 'k8s-ha-test-'): string {
  const { dir, cleanup } = tempDir(prefix);
  t.teardown(cleanup);
  return dir;
}

let nsCounter = 0;
/** Test namespaces are `k8sha-h<pid of the test worker>-<n>`. */
const TEST_NETNS = /^k8sha-h(\d+)-\d+$/;

/**
 * Deletes the test namespaces of workers that no longer run (a worker killed by a timeout
 * cannot run its teardown); run before each namespace is made. Those of live workers stay.
 */
export function reapDeadNamespaces(): void {
  for (const line of run('ip', ['netns', 'list']).stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = TEST_NETNS.exec(name);
    if (m && !pidAlive(Number(m[1]))) run('ip', ['netns', 'del', name]);
  }
}

/** True when `tool` (a name on PATH or an absolute path) is installed. */
export const hasTool = (tool: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0;

/**
 * For tests that call a program directly: true when `tool` (a name on PATH or an absolute
 * path) is installed; otherwise fails the test with the package to install, like {@link run}.
 */
export function requireTool(t: ExecutionContext, tool: string, aptPackage = PACKAGES[tool] ?? tool): boolean {
  if (hasTool(tool)) return true;
  t.fail(`${tool} is not installed: run \`apt-get install -y ${aptPackage}\` (the suite checks outputs with the real program; it does not skip)`);
  return false;
}

/** Result of checking one file with a real tool: ok, or the tool's output. */
export interface ToolResult {
  ok: boolean;
  output: string;
}

/**
 * Writes `content` to a temporary file `name`, runs `cmd args... FILE`, removes it. ok = exit 0 AND `clean(output)`: these tools exit 0
 * on warnings too (cloud-init on a deprecated key, HAProxy on a doubtful setting), and a
 * warning is a finding here, not a pass.
 */
function checkFile(name: string, content: string, cmd: string, args: string[], clean: (output: string, path: string) => boolean): ToolResult {
  const { dir, cleanup } = tempDir('k8s-ha-tool-');
  try {
    const path = join(dir, name);
    writeFileSync(path, content);
    const r = run(cmd, [...args, path]);
    const output = `${r.stdout}${r.stderr}`;
    return { ok: r.code === 0 && clean(output, path), output };
  } finally {
    cleanup();
  }
}

/** `haproxy -c -f haproxy.cfg` (HAProxy 2.6 here), no [WARNING] or [ALERT]. */
export const haproxyCheck = (cfg: string): ToolResult =>
  checkFile('haproxy.cfg', cfg, 'haproxy', ['-c', '-f'], (out) => !/\[(WARNING|ALERT)\]/.test(out));

/** `cloud-init schema --config-file user-data`: exactly "Valid cloud-config: FILE" (no deprecations). */
export const cloudInitCheck = (userData: string): ToolResult =>
  checkFile('user-data', userData, 'cloud-init', ['schema', '--config-file'], (out, path) => out === `Valid cloud-config: ${path}\n`);

/** `ignition-validate config.ign`: silent (it prints warnings and errors only). */
export const ignitionCheck = (ign: string): ToolResult => checkFile('config.ign', ign, 'ignition-validate', [], (out) => out === '');

/** `shellcheck -s sh` on a POSIX shell script: silent. */
export const shellcheck = (script: string): ToolResult => checkFile('script.sh', script, 'shellcheck', ['-s', 'sh'], (out) => out === '');

/**
 * One network namespace for many `keepalived -t` runs (property tests check hundreds of
 * configs): interfaces are veth ends
 * added on demand, created with `name IFNAME` so names such as `ty` or `link` are not read as
 * ip keywords. Call {@link Netns.close} (e.g. in t.teardown) to delete it and all in it.
 */
export class Netns {
  readonly name = `k8sha-h${process.pid}-${nsCounter++}`;
  private readonly links = new Set<string>();

  constructor() {
    // keepalived and unshare run inside `ip netns exec`, where a missing program would only
    // read "not found": check them here, with the command that installs them.
    for (const tool of ['keepalived', 'unshare']) {
      if (!hasTool(tool))
        throw new Error(`${tool} is not installed: run \`apt-get install -y ${PACKAGES[tool]}\` (the suite checks outputs with the real program; it does not skip)`);
    }
    reapDeadNamespaces();
    runOk('ip', ['netns', 'add', this.name]);
  }

  /** Makes sure an interface named `ifname` exists (and is up) in the namespace. */
  ensure(ifname: string): void {
    if (this.links.has(ifname) || ifname === 'lo') return; // lo exists in every namespace
    const peer = `kp${this.links.size}`;
    runOk('ip', ['-n', this.name, 'link', 'add', 'name', ifname, 'type', 'veth', 'peer', 'name', peer]);
    runOk('ip', ['-n', this.name, 'link', 'set', 'dev', ifname, 'up']);
    this.links.add(ifname);
    this.links.add(peer);
  }

  /**
   * `keepalived -t` on `conf` inside the namespace, after creating `interfaces`. keepalived
   * disables (and -t fails on) a track script it cannot find, so `script` is installed at
   * /etc/keepalived/check_apiserver.sh on a tmpfs in a private mount namespace: the machine's
   * /etc is never touched.
   */
  keepalivedCheck(conf: string, interfaces: string[], script: string): ToolResult {
    interfaces.forEach((i) => this.ensure(i));
    const { dir, cleanup } = tempDir('k8s-ha-kad-');
    try {
      writeFileSync(join(dir, 'keepalived.conf'), conf);
      writeFileSync(join(dir, 'check_apiserver.sh'), script, { mode: 0o755 });
      const sh = 'mount -t tmpfs -o mode=0755 k8s-ha-test /etc/keepalived && install -m 0755 "$1/check_apiserver.sh" /etc/keepalived/ && exec keepalived -t -l -f "$1/keepalived.conf"';
      const r = run('ip', ['netns', 'exec', this.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', sh, 'sh', dir]);
      return { ok: r.code === 0, output: `${r.stdout}${r.stderr}` };
    } finally {
      cleanup();
    }
  }

  close(): void {
    run('ip', ['netns', 'del', this.name]);
  }
}

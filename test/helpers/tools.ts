/**
 * The real consumers of k8s-ha's outputs, for tests: haproxy, keepalived (inside a throwaway
 * network namespace that has the configured interfaces), cloud-init and ignition-validate.
 * A missing program is a failure whose message says how to install it, never a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian package providing each program (for the install hint). */
const PACKAGES: Record<string, string> = {
  haproxy: 'haproxy',
  keepalived: 'keepalived',
  'cloud-init': 'cloud-init',
  'ignition-validate': 'ignition',
  ip: 'iproute2',
  shellcheck: 'shellcheck',
};

/** Result of checking one file with a real tool: ok, or the tool's output. */
export interface ToolResult {
  ok: boolean;
  output: string;
}

/** Runs `cmd args`; throws with the apt-get command when the program is not installed. */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env: opts.env ?? process.env });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error(`${cmd} is not installed: apt-get install -y ${PACKAGES[cmd] ?? cmd}`);
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Writes `content` to a fresh temporary file, runs `check(path)`, removes it. */
function withFile<T>(name: string, content: string, check: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-tool-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, content);
    return check(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `haproxy -c -f haproxy.cfg` (HAProxy 2.6 here). */
export const haproxyCheck = (cfg: string): ToolResult => withFile('haproxy.cfg', cfg, (p) => run('haproxy', ['-c', '-f', p]));

/** `cloud-init schema --config-file user-data`. */
export const cloudInitCheck = (userData: string): ToolResult =>
  withFile('user-data', userData, (p) => run('cloud-init', ['schema', '--config-file', p]));

/** `ignition-validate config.ign`. */
export const ignitionCheck = (ign: string): ToolResult => withFile('config.ign', ign, (p) => run('ignition-validate', [p]));

/**
 * A network namespace for `keepalived -t`, which refuses interfaces the machine lacks
 * (shared/notes/ha-static-pods.md): interfaces are veth ends added on demand. Call
 * {@link Netns.close} (e.g. in t.teardown) to delete it and everything in it.
 */
export class Netns {
  readonly name = `k8s-ha-t-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  private readonly links = new Set<string>();
  private peer = 0;

  constructor() {
    run('ip', ['netns', 'add', this.name]);
  }

  /** Makes sure an interface named `ifname` exists (and is up) in the namespace. */
  ensure(ifname: string): void {
    if (this.links.has(ifname) || ifname === 'lo') return; // lo exists in every namespace
    const peer = `kp${this.peer++}`;
    execFileSync('ip', ['-n', this.name, 'link', 'add', 'name', ifname, 'type', 'veth', 'peer', 'name', peer]);
    execFileSync('ip', ['-n', this.name, 'link', 'set', 'dev', ifname, 'up']);
    this.links.add(ifname);
    this.links.add(peer);
  }

  /**
   * `keepalived -t -f keepalived.conf` inside the namespace, after creating `interfaces`.
   * keepalived disables (and -t fails on) a track script it cannot find, so `script` is put
   * at /etc/keepalived/check_apiserver.sh on a tmpfs in a private mount namespace: the
   * machine's /etc is never touched.
   */
  keepalivedCheck(conf: string, interfaces: string[], script: string): ToolResult {
    interfaces.forEach((i) => this.ensure(i));
    const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-kad-'));
    try {
      writeFileSync(join(dir, 'keepalived.conf'), conf);
      writeFileSync(join(dir, 'check_apiserver.sh'), script, { mode: 0o755 });
      const sh = 'mount -t tmpfs -o mode=0755 k8s-ha-test /etc/keepalived && install -m 0755 "$1/check_apiserver.sh" /etc/keepalived/ && exec keepalived -t -l -f "$1/keepalived.conf"';
      return run('ip', ['netns', 'exec', this.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', sh, 'sh', dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/** `shellcheck -s sh` on a POSIX shell script. */
export const shellcheck = (script: string): ToolResult => withFile('script.sh', script, (p) => run('shellcheck', ['-s', 'sh', p]));

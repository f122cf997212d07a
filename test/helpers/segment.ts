/**
 * A segment for real-wire tests (VRRP preflight, VIP watch): a bridge in its own network
 * namespace and member namespaces on it, on 198.18.0.0/24 and 2001:2::/64 (RFC 2544, RFC 5180
 * benchmarking ranges) only. Every namespace and process is removed in teardown, also on
 * failure; keepalived runs as the child of `unshare --pid --kill-child`, so the kernel ends its
 * whole process tree when the test kills that one process.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderCluster } from '../../src/render.js';
import type { Plan } from '../../src/model.js';
import { FIXTURE_SECRETS } from './secrets.js';
import { PACKAGES, hasTool, reapDeadNamespaces, run, runOk } from './tools.js';

let counter = 0;

/** A segment: a bridge namespace and one namespace per member, each with eth0 on the bridge. */
export class Segment {
  readonly bridge = `k8sha-h${process.pid}-${counter++}`;
  readonly members: string[] = [];
  private readonly procs: ChildProcess[] = [];

  /** `tools`: the programs the test runs on the segment (each must be installed). */
  constructor(private readonly t: ExecutionContext, private readonly dir: string, tools = ['tcpdump', 'keepalived', 'unshare']) {
    for (const tool of tools) {
      if (!hasTool(tool)) throw new Error(`${tool} is not installed: run \`apt-get install -y ${PACKAGES[tool] ?? tool}\` (the suite runs the real program; it does not skip)`);
    }
    reapDeadNamespaces();
    runOk('ip', ['netns', 'add', this.bridge]);
    t.teardown(() => this.close());
    runOk('ip', ['-n', this.bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    runOk('ip', ['-n', this.bridge, 'link', 'set', 'br0', 'up']);
  }

  /** A member namespace with `addresses` (address/prefix) on its eth0; returns its name. */
  add(addresses: string[]): string {
    const ns = `k8sha-h${process.pid}-${counter++}`;
    runOk('ip', ['netns', 'add', ns]);
    this.members.push(ns);
    const port = `p${this.members.length}`;
    runOk('ip', ['-n', this.bridge, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    runOk('ip', ['-n', this.bridge, 'link', 'set', port, 'master', 'br0', 'up']);
    for (const a of addresses) runOk('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : [])]);
    runOk('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  /**
   * Runs keepalived with `conf` in `ns` (check script on a private tmpfs at /etc/keepalived, as
   * in the pod); it sends adverts until teardown.
   */
  keepalived(ns: string, conf: string, script = '#!/bin/sh\nexit 0\n'): void {
    const dir = join(this.dir, `${ns}-kad`);
    runOk('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'keepalived.conf'), conf);
    writeFileSync(join(dir, 'check_apiserver.sh'), script, { mode: 0o755 });
    const sh = 'mount -t tmpfs -o mode=0755 k8s-ha-test /etc/keepalived && install -m 0755 "$1/check_apiserver.sh" /etc/keepalived/ && ' +
      'exec keepalived -n -l -D -f "$1/keepalived.conf" -p "$1/k.pid" -r "$1/v.pid"';
    const p = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', 'sh', '-c', sh, 'sh', dir], { stdio: 'ignore' });
    this.procs.push(p);
  }

  /**
   * Waits (up to 30 s) until keepalived in `ns` holds every one of `vips`: it is then MASTER
   * and advertising every advert_int, as a router already on the segment would be. On a loaded
   * machine keepalived may take seconds to get there; the preflight's window must not be spent
   * waiting for it.
   */
  async advertising(ns: string, vips: string[]): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const out = run('ip', ['-n', ns, 'addr', 'show', 'dev', 'eth0']).stdout;
      if (vips.every((v) => out.includes(` ${v}/`))) return;
      await sleep(100);
    }
    throw new Error(`keepalived in ${ns} did not take ${vips.join(', ')} within 30 s`);
  }

  /**
   * Runs `argv` in `ns` for at most `seconds` (coreutils `timeout`, then SIGKILL of what is
   * left with the process group); its exit code and output. The process is killed in teardown too.
   */
  async runFor(ns: string, argv: string[], seconds: number, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const p = spawn('ip', ['netns', 'exec', ns, 'timeout', '-s', 'KILL', String(seconds), 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    return { code, stdout, stderr };
  }

  /** Runs the preflight script `script` in `ns`; its exit code and journal lines (stderr). */
  preflight(ns: string, script: string, env: Record<string, string> = {}): { code: number; log: string } {
    const file = join(this.dir, `${ns}-preflight.sh`);
    writeFileSync(file, script, { mode: 0o755 });
    const r = run('ip', ['netns', 'exec', ns, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), '/bin/sh', file]);
    return { code: r.code, log: r.stderr };
  }

  private close(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const ns of [...this.members, this.bridge]) run('ip', ['netns', 'del', ns]);
  }
}

/** The profile's rendered files by node name (path -> content). */
export function files(plan: Plan): Map<string, Map<string, string>> {
  return new Map(renderCluster(plan, FIXTURE_SECRETS).map((r) => [r.node.name, new Map(r.payload.files.map((f) => [f.path, f.content]))]));
}

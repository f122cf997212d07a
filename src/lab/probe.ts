/**
 * What the lab observes: the client's request stream (probe-main.ts in the client namespace)
 * and, per node, which VIPs it holds. A node holds a VIP while the address is on its
 * interface AND the link is up (a crashed node whose cable is pulled keeps the address but
 * reaches nobody). Holder changes come from `ip monitor link address` (netlink events, so
 * the resolution is the event itself, far below the 20 ms sampling bound).
 */
import { fileURLToPath } from 'node:url';
import { run, startDaemon, stopDaemon, nowMs, type Daemon } from './proc.js';
import type { NetNode, Topology } from './netns.js';

/** One client request: start time (ms since epoch), target `host:port`, outcome. */
export interface ProbeRecord {
  t: number;
  target: string;
  ok: boolean;
  /** Node name of the apiserver that answered, null on failure. */
  by: string | null;
  err: string | null;
}

/** A change of whether `node` holds `vip`, at `t` (ms since epoch). */
export interface HolderEvent { t: number; node: string; vip: string; held: boolean }

const PROBE_MAIN = fileURLToPath(new URL('./probe-main.js', import.meta.url));

/** The running client; `records` grows until {@link Probe.stop}. */
export class Probe {
  readonly records: ProbeRecord[] = [];
  private constructor(private readonly daemon: Daemon) {}

  /** Starts requests every `intervalMs` with `timeoutMs` to each `targets` entry (`host:port`). */
  static start(topo: Topology, targets: string[], intervalMs = 20, timeoutMs = 500): Probe {
    let probe!: Probe;
    const d = startDaemon('client/probe', ['ip', 'netns', 'exec', topo.client.ns, process.execPath, PROBE_MAIN,
      String(intervalMs), String(timeoutMs), ...targets], (line) => line && probe.records.push(JSON.parse(line) as ProbeRecord));
    probe = new Probe(d);
    return probe;
  }

  /** Records whose start time lies in [from, to). */
  between(from: number, to: number): ProbeRecord[] {
    return this.records.filter((r) => r.t >= from && r.t < to).sort((a, b) => a.t - b.t);
  }

  async stop(): Promise<void> {
    await stopDaemon(this.daemon);
  }
}

/** Tracks which node holds which VIP, from netlink events of every node namespace. */
export class HolderWatch {
  readonly events: HolderEvent[] = [];
  private readonly state = new Map<string, { up: boolean; addrs: Set<string> }>();
  private readonly monitors: Daemon[] = [];

  constructor(private readonly nodes: NetNode[], private readonly vips: string[]) {}

  /** Starts one `ip monitor` per node, then reads the current state (events win over it). */
  async start(): Promise<void> {
    for (const n of this.nodes) {
      this.state.set(n.name, { up: false, addrs: new Set() });
      this.monitors.push(startDaemon(`${n.name}/ip-monitor`, ['ip', '-n', n.ns, '-o', 'monitor', 'link', 'address'],
        (line) => this.apply(n, line)));
    }
    await new Promise((r) => setTimeout(r, 100)); // let the monitors subscribe
    for (const n of this.nodes) {
      const out = await run(['ip', '-n', n.ns, '-o', 'link', 'show', 'dev', n.iface]) +
        await run(['ip', '-n', n.ns, '-o', 'addr', 'show', 'dev', n.iface]);
      for (const line of out.split('\n')) this.apply(n, line);
    }
  }

  private apply(node: NetNode, line: string): void {
    const st = this.state.get(node.name)!;
    const before = this.vips.map((v) => st.up && st.addrs.has(v));
    const link = /^(Deleted )?\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>/.exec(line);
    const addr = /^(Deleted )?\d+: (\S+)\s+inet6? ([^\s/]+)\//.exec(line);
    if (link && link[2] === node.iface) {
      const flags = link[3]!.split(',');
      st.up = !link[1] && flags.includes('UP') && flags.includes('LOWER_UP');
    } else if (addr && addr[2] === node.iface) {
      if (addr[1]) st.addrs.delete(addr[3]!);
      else st.addrs.add(addr[3]!);
    } else return;
    const t = nowMs();
    this.vips.forEach((vip, i) => {
      const held = st.up && st.addrs.has(vip);
      if (held !== before[i]) this.events.push({ t, node: node.name, vip, held });
    });
  }

  /** Nodes holding `vip` now, sorted. */
  holders(vip: string): string[] {
    return this.nodes.filter((n) => { const s = this.state.get(n.name)!; return s.up && s.addrs.has(vip); }).map((n) => n.name).sort();
  }

  /** Holder events of `vip` in [from, to). */
  between(vip: string, from: number, to: number): HolderEvent[] {
    return this.events.filter((e) => e.vip === vip && e.t >= from && e.t < to);
  }

  /**
   * Longest time (ms) within [from, to) during which two or more nodes held `vip` at once.
   * Replays the events from the start so a dual holding that began before `from` counts.
   * A handover by preemption overlaps for a moment by design (the new master adds the VIP,
   * then the old one hears its advert and withdraws), so callers compare this against a
   * tolerance of one sampling period rather than zero.
   */
  longestOverlapMs(vip: string, from: number, to: number): number {
    const held = new Set<string>();
    let since: number | null = null;
    let longest = 0;
    const close = (t: number) => {
      if (since !== null) longest = Math.max(longest, Math.min(t, to) - Math.max(since, from));
      since = null;
    };
    for (const e of this.events.filter((x) => x.vip === vip && x.t < to)) {
      if (e.held) held.add(e.node); else held.delete(e.node);
      if (held.size > 1 && since === null) since = e.t;
      else if (held.size <= 1) close(e.t);
    }
    close(to);
    return Math.max(0, longest);
  }

  async stop(): Promise<void> {
    await Promise.all(this.monitors.map((m) => stopDaemon(m)));
  }
}

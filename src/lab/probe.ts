/**
 * What the lab observes: the client's request stream (probe-main.ts in the client namespace)
 * and, per node, which VIPs it holds. A node holds a VIP while the address is on its
 * interface AND the link is up (a crashed node whose cable is pulled keeps the address but
 * reaches nobody). Holder changes come from `ip monitor link address` (netlink events, so
 * the resolution is the event itself, far below the 20 ms sampling bound).
 */
import { fileURLToPath } from 'node:url';
import { run, sleep, startDaemon, stopDaemon, nowMs, type Daemon } from './proc.js';
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

/** `node` held `vip` from `from` to `to` (ms since epoch). */
export interface Holding { node: string; vip: string; from: number; to: number }

/** Two or more `nodes` held `vip` at once from `from` to `to` (ms since epoch), `ms` long. */
export interface Overlap { vip: string; from: number; to: number; ms: number; nodes: string[]; open: boolean }

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
    await sleep(100); // let the monitors subscribe
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
   * Every time a node held `vip` within [from, to): node, start and end (ms since the epoch,
   * clipped to the window). Replays the events from the start, so a holding that began
   * before `from` is there too.
   */
  holdings(vip: string, from: number, to: number): Holding[] {
    const since = new Map<string, number>();
    const out: Holding[] = [];
    const end = (node: string, t: number) => {
      const s = since.get(node);
      if (s !== undefined && Math.min(t, to) > Math.max(s, from)) out.push({ node, vip, from: Math.max(s, from), to: Math.min(t, to) });
      since.delete(node);
    };
    for (const e of this.events.filter((x) => x.vip === vip && x.t < to)) {
      if (e.held && !since.has(e.node)) since.set(e.node, e.t);
      else if (!e.held) end(e.node, e.t);
    }
    for (const node of [...since.keys()]) end(node, to);
    return out.sort((a, b) => a.from - b.from);
  }

  /**
   * Every overlap of `vip` within [from, to): a stretch during which two or more nodes held it
   * at once, with its start, end (clipped to the window), duration and the nodes.
   * `open` is true when it had not ended at `to`.
   */
  overlaps(vip: string, from: number, to: number): Overlap[] {
    const held = new Set<string>();
    const out: Overlap[] = [];
    let cur: { from: number; nodes: Set<string> } | null = null;
    const close = (t: number, open: boolean) => {
      if (cur && Math.min(t, to) > Math.max(cur.from, from)) {
        const [a, b] = [Math.max(cur.from, from), Math.min(t, to)];
        out.push({ vip, from: a, to: b, ms: b - a, nodes: [...cur.nodes].sort(), open });
      }
      cur = null;
    };
    for (const e of this.events.filter((x) => x.vip === vip && x.t < to)) {
      if (e.held) held.add(e.node); else held.delete(e.node);
      if (held.size > 1) {
        cur ??= { from: e.t, nodes: new Set() };
        for (const n of held) cur.nodes.add(n);
      } else close(e.t, false);
    }
    close(to, true);
    return out;
  }

  /** Longest time (ms) within [from, to) during which two or more nodes held `vip` at once. */
  longestOverlapMs(vip: string, from: number, to: number): number {
    return Math.max(0, ...this.overlaps(vip, from, to).map((o) => o.ms));
  }

  async stop(): Promise<void> {
    await Promise.all(this.monitors.map((m) => stopDaemon(m)));
  }
}

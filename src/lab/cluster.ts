/**
 * The running lab cluster: per control-plane node its namespace, stand-in apiserver and
 * static-pod containers, plus the client probe and the VIP-holder watch. Scenarios act on it
 * through the few failure primitives below (crash, graceful stop, kill one container, stop the
 * apiserver) and {@link LabCluster.heal}, which brings every node back to full health.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VRRP_PREFLIGHT } from '../components/vrrp-preflight.js';
import { DUPLICATE_MARK, VIP_WATCH_CONTAINER } from '../components/vip-watch.js';
import type { Plan, PlanNode } from '../model.js';
import { startApiserver, type LabCert } from './apiserver.js';
import { startContainer, type ContainerSpec, type RunningContainer } from './kubelet.js';
import { flushAddresses, flushNeighbours, setLink, setVrrpBlocked, type NetNode, type Topology } from './netns.js';
import { HolderWatch, Probe } from './probe.js';
import { signalGroup, sleep, startDaemon, stopDaemon, type Daemon } from './proc.js';
import { bracketIp } from '../profile/values.js';

/** A node of the lab and what runs on it now. */
export interface LabNode {
  plan: PlanNode;
  net: NetNode;
  specs: ContainerSpec[];
  apiserver?: Daemon;
  containers: RunningContainer[];
  linkUp: boolean;
  /** VRRP is dropped in and out of the node's namespace ({@link LabCluster.partition}). */
  vrrpBlocked?: boolean;
  /** Containers stopped with SIGSTOP ({@link LabCluster.freeze}). */
  frozen?: RunningContainer[];
  /** Where cloud-init wrote the node's files (its root file system in the lab). */
  root?: string;
}

const alive = (d?: Daemon) => d !== undefined && d.child.exitCode === null && d.child.signalCode === null;

export class LabCluster {
  readonly probe: Probe;
  readonly watch: HolderWatch;

  constructor(readonly plan: Plan, readonly topo: Topology, readonly nodes: LabNode[], private readonly cert: LabCert) {
    this.watch = new HolderWatch(topo.nodes, plan.vip.addresses);
    this.probe = Probe.start(topo, plan.vip.addresses.map((v) => `${bracketIp(v)}:${plan.vip.port}`));
  }

  /** The node with the highest VRRP priority among `candidates` (default: all). */
  expectedMaster(candidates = this.nodes): LabNode {
    return [...candidates].sort((a, b) => b.plan.vrrp!.priority - a.plan.vrrp!.priority)[0]!;
  }

  byName(name: string): LabNode {
    return this.nodes.find((n) => n.plan.name === name)!;
  }

  /** Holders of the first VIP now (one name when healthy). */
  holders(): string[] {
    return this.watch.holders(this.plan.vip.addresses[0]!);
  }

  /**
   * Brings `node` (default: every node) to full health: link up (after dropping VIPs a
   * SIGKILLed keepalived left, as a reboot would), apiserver, then every static pod that is
   * not running, in manifest order (`apiservers: false`: the static pods only, as while
   * `kubeadm init` has not started the apiserver yet). Healing every node also makes the client forget where
   * the VIPs were (its neighbour entries), as a fresh client would.
   * @throws Error with the container's log when a container exits within 300 ms of its start.
   */
  async heal(only?: LabNode, opts: { apiservers?: boolean } = {}): Promise<void> {
    if (!only) await flushNeighbours(this.topo, this.plan.vip.addresses);
    for (const n of only ? [only] : this.nodes) {
      if (n.vrrpBlocked) await this.partition(n, false);
      for (const c of n.frozen ?? []) signalGroup(c.daemon, 'SIGCONT');
      n.frozen = undefined;
      if (!n.linkUp) {
        await flushAddresses(n.net, this.plan.vip.addresses);
        await setLink(n.net, true);
        n.linkUp = true;
      }
      if (!alive(n.apiserver) && opts.apiservers !== false) n.apiserver = await startApiserver(n.net, this.plan.kubernetes.apiServerPort, this.cert);
      const started: RunningContainer[] = [];
      for (const spec of n.specs) {
        if (n.containers.some((c) => c.spec === spec && alive(c.daemon))) continue;
        n.containers = n.containers.filter((c) => c.spec !== spec);
        const c = startContainer(n.net, spec);
        n.containers.push(c);
        started.push(c);
      }
      await sleep(started.length ? 300 : 0);
      const dead = started.find((c) => !alive(c.daemon));
      if (dead) throw new Error(`static pod ${dead.spec.name} on ${n.plan.name} exited at once:\n${dead.daemon.log()}`);
    }
  }

  /** Container of `node` whose command is `program` (basename of argv[0]). */
  container(node: LabNode, program: string): RunningContainer {
    const c = node.containers.find((x) => basename(x.spec.argv[0]!) === program && alive(x.daemon));
    if (!c) throw new Error(`no running ${program} container on ${node.plan.name}`);
    return c;
  }

  /** Power loss: SIGKILL every container and the apiserver of `node`, then pull its link. */
  async crash(node: LabNode): Promise<void> {
    for (const d of [...node.containers.map((c) => c.daemon), node.apiserver]) if (d) signalGroup(d, 'SIGKILL');
    await setLink(node.net, false);
    node.linkUp = false;
    await Promise.all([...node.containers.map((c) => c.daemon.exited), node.apiserver?.exited]);
  }

  /** Graceful stop of one container (SIGTERM, as kubelet does), waiting for its exit. */
  async stop(node: LabNode, program: string): Promise<void> {
    await stopDaemon(this.container(node, program).daemon, 'SIGTERM', 10_000);
  }

  /** SIGKILL of one container. */
  async kill(node: LabNode, program: string): Promise<void> {
    await stopDaemon(this.container(node, program).daemon, 'SIGKILL', 0);
  }

  /**
   * Drops (`on`) or lets through again every VRRP packet in and out of `node`'s namespace
   * (nftables there): the node and its peers stop hearing each other's adverts, while
   * everything else (ARP, the client's requests) still flows. With `only`, just the VRRP
   * between `node` and those nodes (every address of theirs): a filter on one path.
   */
  async partition(node: LabNode, on: boolean, only?: LabNode[]): Promise<void> {
    const peers = only?.flatMap((n) => [n.plan.address, ...(n.plan.secondaryAddress ? [n.plan.secondaryAddress] : [])]);
    await setVrrpBlocked(node.net, on, peers);
    node.vrrpBlocked = on;
  }

  /**
   * Lines the VIP watch sidecar (components/vip-watch.ts) of `node` logged at or after `since`
   * (ms since the epoch) that report a duplicate, from every run of that container.
   */
  watchAlarms(node: LabNode, since: number): { t: number; line: string }[] {
    return node.containers.filter((x) => x.spec.name === `keepalived/${VIP_WATCH_CONTAINER}`)
      .flatMap((x) => x.daemon.transcript.filter((l) => l.t >= since && l.line.includes(DUPLICATE_MARK)));
  }

  /** SIGSTOPs (`on`) or SIGCONTs the `program` container of `node`: a stalled VM, for keepalived. */
  freeze(node: LabNode, program: string, on: boolean): void {
    const c = on ? this.container(node, program) : node.frozen?.find((x) => basename(x.spec.argv[0]!) === program);
    if (!c) return;
    signalGroup(c.daemon, on ? 'SIGSTOP' : 'SIGCONT');
    node.frozen = on ? [...(node.frozen ?? []), c] : node.frozen?.filter((x) => x !== c);
  }

  /**
   * Loads the CPU of every node: `loops` busy shell loops in each node's namespace for `ms`,
   * then SIGKILLed (reaped like every lab process, also on teardown).
   * @throws Error when a loop ended before `ms` (then nothing was loaded).
   */
  async busy(ms: number, loops = 2): Promise<void> {
    const daemons = this.nodes.flatMap((n) => Array.from({ length: loops }, (_, i) =>
      startDaemon(`${n.plan.name}/busy${i}`, ['ip', 'netns', 'exec', n.net.ns, 'sh', '-c', 'while :; do :; done'])));
    try {
      await sleep(ms);
      // A loop that ended early loaded nothing: the scenario would prove nothing.
      const ended = daemons.find((d) => !alive(d));
      if (ended) throw new Error(`busy loop ${ended.label} ended before the ${ms} ms of load: ${ended.log()}`);
    } finally {
      await Promise.all(daemons.map((d) => stopDaemon(d, 'SIGKILL', 0)));
    }
  }

  /** Every container and the apiserver of every node, SIGKILLed, VIPs dropped: a cold cluster. */
  async powerOffAll(): Promise<void> {
    for (const n of this.nodes) {
      for (const c of n.frozen ?? []) signalGroup(c.daemon, 'SIGCONT');
      n.frozen = undefined;
      await Promise.all([...n.containers.map((c) => stopDaemon(c.daemon, 'SIGKILL', 0)), n.apiserver && stopDaemon(n.apiserver, 'SIGKILL', 0)]);
      n.containers = [];
      n.apiserver = undefined;
      await flushAddresses(n.net, this.plan.vip.addresses);
    }
  }

  /** Stops the stand-in apiserver of `node` (SIGTERM: it closes its listener). */
  async stopApiserver(node: LabNode): Promise<void> {
    if (node.apiserver) await stopDaemon(node.apiserver);
  }

  /**
   * Runs the node's generated VRRP preflight script (components/vrrp-preflight.ts) in its
   * namespace, as the bootstrap would before keepalived's first start; resolves with its exit
   * code and its last output lines.
   * @throws Error when the node has no preflight script (keepalived.vrrpPreflight = "off").
   */
  async preflight(node: LabNode): Promise<{ code: number | string; log: string }> {
    const script = node.root === undefined ? undefined : join(node.root, VRRP_PREFLIGHT);
    if (script === undefined || !existsSync(script)) throw new Error(`${node.plan.name} has no ${VRRP_PREFLIGHT} (keepalived.vrrpPreflight = "off"?)`);
    const d = startDaemon(`${node.plan.name}/vrrp-preflight`, ['ip', 'netns', 'exec', node.net.ns, 'sh', script]);
    return { code: await d.exited, log: d.log() };
  }

  /** Waits until `cond` holds, polling every 10 ms; false when `timeoutMs` passed first. */
  async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) return false;
      await sleep(10);
    }
    return true;
  }

  /** Every process of the lab's cluster, stopped; namespaces are the caller's. */
  async shutdown(): Promise<void> {
    await this.probe.stop();
    await this.watch.stop();
    for (const n of this.nodes) {
      await Promise.all([...n.containers.map((c) => stopDaemon(c.daemon, 'SIGKILL', 0)), n.apiserver && stopDaemon(n.apiserver, 'SIGKILL', 0)]);
    }
  }
}

/**
 * The lab's rollout scenarios (issue #15): the cluster runs profile A; the update scripts that
 * `k8s-ha rollout` generates for profile B run inside the node namespaces while the client
 * probes the VIP.
 * - `rollout`: the planned order (running nodes in ascending priority, the VIP holder last; the
 *   holder's script steers its new connections to a peer while its HAProxy restarts, or drains
 *   it when keepalived changes there, src/day2/script.ts);
 * - `rollout-holder-first`: what happens without the plan: B's files are copied onto the VIP
 *   holder first (no drain, as a user copying files by hand would), then the others' scripts.
 *
 * The lab's kubelet (src/lab/kubelet.ts) reads the manifests once; here {@link resyncNode}
 * does what kubelet does when a manifest changes: it stops the old pod (each container with its
 * image's stop signal, SIGUSR1 for HAProxy: kubelet.ts stopSignalOf; waiting for its exit)
 * before it starts the new one (kubelet starts a static pod only when no pod of the
 * same full name runs: kubernetes pkg/kubelet/pod_workers.go allowStaticPodStart). While a
 * script runs, the lab polls each node's manifests every {@link KUBELET_POLL_MS} (kubelet
 * watches the directory with inotify).
 *
 * crictl stand-in: the scripts wait with `crictl pods --state ready --name ... -o json | grep
 * HASH`. The lab puts a `crictl` first on the scripts' PATH that prints, for each pod running
 * on that node, `{"annotations":{"k8s-ha/config-hash":"sha256:..."}}` (what crictl prints of
 * a ready pod sandbox that carries its pod's annotations); the lab writes one such file per
 * running pod under the node's state directory.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import type { NodeFile, Plan } from '../model.js';
import type { RenderedNode } from '../render.js';
import { MANIFESTS_DIR } from '../components/static-pods.js';
import { DRAIN_FILE, KEEPALIVED_DIR } from '../components/keepalived.js';
import { HAPROXY_DIR } from '../components/haproxy.js';
import { readStaticPods, stopContainer } from './kubelet.js';
import type { LabCluster, LabNode } from './cluster.js';
import { nowMs, sleep } from './proc.js';
import { healthy, measure, type ScenarioResult } from './scenarios.js';
import { SCHEDULING_ALLOWANCE_MS } from './bounds.js';
import type { LabRolloutScenarioName } from '../model.js';

/** How often the lab's kubelet looks at a node's manifests during a rollout, ms. */
export const KUBELET_POLL_MS = 100;

/** What the rollout scenarios need besides the cluster. */
export interface RolloutContext {
  /** Profile A (running) and its render; profile B and its render. */
  planA: Plan;
  renderedA: RenderedNode[];
  planB: Plan;
  renderedB: RenderedNode[];
  /** Node name -> the applied node root (what the scripts see as /). */
  roots: ReadonlyMap<string, string>;
  /** A work directory of the lab (crictl stand-in, scripts, pod state). */
  work: string;
  log?: (line: string) => void;
}

/**
 * Why profile B cannot be rolled out in the lab from A, or undefined: the lab's namespaces and
 * addresses are A's, so B must have the same control-plane nodes (names and addresses, in any
 * order) and the same VIPs. (Adding a node is a rollout plus provisioning, which the lab does
 * not do.)
 */
export function rolloutProfileProblem(a: Plan, b: Plan): string | undefined {
  const cps = (p: Plan) => p.nodes.filter((n) => n.vrrp).map((n) => `${n.name} ${n.address}`).sort().join(', ');
  if (cps(a) !== cps(b)) return `--rollout-to ${b.source}: its control-plane nodes (${cps(b)}) differ from ${a.source}'s (${cps(a)}); the lab rolls out changes to the same nodes only\n  hint: change timing, ports or checks in the second profile, not its nodes`;
  if (a.vip.addresses.join() !== b.vip.addresses.join()) return `--rollout-to ${b.source}: its VIPs (${b.vip.addresses.join(', ')}) differ from ${a.source}'s (${a.vip.addresses.join(', ')})\n  hint: keep vip.addresses`;
  return undefined;
}

/** The files a running node needs (static pods and what they mount), not first-boot ones. */
function liveFiles(r: RenderedNode): NodeFile[] {
  return r.payload.files.filter((f) => [MANIFESTS_DIR, HAPROXY_DIR, KEEPALIVED_DIR].some((d) => f.path.startsWith(`${d}/`)));
}

/** The pod name and config hash of each manifest under `root`, by manifest file name. */
async function manifests(root: string): Promise<Map<string, { pod: string; hash: string; text: string }>> {
  const dir = join(root, MANIFESTS_DIR);
  const out = new Map<string, { pod: string; hash: string; text: string }>();
  for (const f of (await readdir(dir)).filter((x) => /^[^.].*\.(ya?ml|json)$/.test(x)).sort()) {
    // Like kubelet, skip what is not (or no longer) a Pod: a file removed since readdir, or an
    // empty one (CI once read `null` here, on a machine at load 16).
    const text = await readFile(join(dir, f), 'utf8').catch(() => '');
    const pod = parseYaml(text) as { metadata?: { name?: string; annotations?: Record<string, string> } } | null;
    if (pod === null || typeof pod !== 'object') continue;
    out.set(f, { pod: pod.metadata?.name ?? f, hash: pod.metadata?.annotations?.['k8s-ha/config-hash'] ?? '', text });
  }
  return out;
}

/** Per node: the manifests its running pods were started from. */
const started = new WeakMap<LabNode, Map<string, { pod: string; hash: string; text: string }>>();

const stateDir = (ctx: RolloutContext, node: LabNode) => join(ctx.work, 'pods', node.plan.name);

/**
 * The lab's kubelet on a manifest change: every pod of `node` whose manifest text differs from
 * the one it was started from is stopped (its stop signal, kubelet.ts stopContainer; its exit awaited), then every pod is started
 * from the manifests now in place; the crictl stand-in's state follows.
 * @returns the names of the pods restarted.
 */
export async function resyncNode(c: LabCluster, node: LabNode, ctx: RolloutContext): Promise<string[]> {
  const root = ctx.roots.get(node.plan.name)!;
  const now = await manifests(root);
  const before = started.get(node) ?? now;
  const changed = [...now].filter(([f, m]) => before.get(f)?.text !== m.text).map(([, m]) => m.pod);
  const dir = stateDir(ctx, node);
  await mkdir(dir, { recursive: true });
  if (started.has(node) && changed.length === 0) return [];
  for (const pod of changed) {
    await rm(join(dir, `${pod}.json`), { force: true });
    const old = node.containers.filter((x) => x.spec.name.startsWith(`${pod}/`));
    await Promise.all(old.map((x) => stopContainer(x, 10_000)));
    node.containers = node.containers.filter((x) => !old.includes(x));
  }
  // Unchanged pods keep their spec objects: heal() knows a running container by its spec.
  const fresh = await readStaticPods(root);
  node.specs = fresh.map((f) => (changed.some((pod) => f.name.startsWith(`${pod}/`)) ? f : node.specs.find((o) => o.name === f.name) ?? f));
  await c.heal(node);
  for (const m of now.values()) await writeFile(join(dir, `${m.pod}.json`), `${JSON.stringify({ metadata: { name: `${m.pod}-${node.plan.name}` }, annotations: { 'k8s-ha/config-hash': m.hash } })}\n`);
  started.set(node, now);
  return changed;
}

/** Writes `files` under `root` (mode kept), as a user copying them by hand would. */
async function copyFiles(root: string, files: readonly NodeFile[]): Promise<void> {
  for (const f of files) {
    const to = join(root, f.path);
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, f.content, { mode: f.mode });
  }
}

/** Runs `script` inside `node`'s namespace with the node root as / and the crictl stand-in first on PATH. */
function runScript(node: LabNode, ctx: RolloutContext, script: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  const bin = join(ctx.work, 'bin');
  const vars = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, K8S_HA_ROOT: ctx.roots.get(node.plan.name)!, K8S_HA_LAB_PODS: stateDir(ctx, node), K8S_HA_WAIT_SECONDS: '60', ...env };
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', node.net.ns, 'env', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), 'sh', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Runs `work` while the lab's kubelet polls `nodes`' manifests. */
async function withKubelet<T>(c: LabCluster, ctx: RolloutContext, work: () => Promise<T>): Promise<T> {
  let done = false;
  const loop = (async () => {
    while (!done) {
      for (const n of c.nodes) await resyncNode(c, n, ctx);
      await sleep(KUBELET_POLL_MS);
    }
  })();
  try {
    return await work();
  } finally {
    done = true;
    await loop;
  }
}

/**
 * Client-visible outage bound of the planned rollout, ms. With a steering holder nothing may
 * fail at all (the scenario checks that); with a drained one the VIP only moves by preemption
 * between two healthy nodes (drain, then back): VRRP hands it over without
 * a gap (the new master adds it before the old one drops it, RFC 5798 6.4.3), and the pod
 * restarts happen on nodes that do not hold the VIP. What fails is a request in flight on a
 * connection through the VIP at a move (reset by the new holder), so the outage is one or two
 * probe periods (20 ms each); the bound is how late the machine may schedule the lab
 * ({@link SCHEDULING_ALLOWANCE_MS}), which covers those periods.
 */
export function rolloutBoundMs(): number {
  return SCHEDULING_ALLOWANCE_MS;
}

/** Brings every node back to profile A (files and pods), unmeasured, and waits for health. */
async function backToA(c: LabCluster, ctx: RolloutContext): Promise<void> {
  for (const n of c.nodes) {
    const r = ctx.renderedA.find((x) => x.node.name === n.plan.name)!;
    await copyFiles(ctx.roots.get(n.plan.name)!, liveFiles(r));
    await rm(join(ctx.roots.get(n.plan.name)!, DRAIN_FILE), { force: true });
    await resyncNode(c, n, ctx);
  }
  await healthy(c);
}

/** Runs one rollout scenario (see the module doc). */
export async function runRolloutScenario(c: LabCluster, name: LabRolloutScenarioName, ctx: RolloutContext): Promise<ScenarioResult> {
  const [{ diffCluster }, { planRollout }, { canSteer }] = await Promise.all([import('../day2/diff.js'), import('../day2/rollout.js'), import('../day2/script.js')]);
  await mkdir(join(ctx.work, 'bin'), { recursive: true });
  await writeFile(join(ctx.work, 'bin', 'crictl'), '#!/bin/sh\n# k8s-ha lab stand-in for crictl: the pods the lab runs on this node (src/lab/rollout.ts).\ncat "$K8S_HA_LAB_PODS"/*.json 2>/dev/null\n', { mode: 0o755 });
  await backToA(c, ctx);
  const holder = c.holders()[0]!;
  const diff = diffCluster(ctx.planB.name, 'lab', ctx.renderedB.map((r) => ({ name: r.node.name, role: r.node.role, address: r.node.address, files: liveFiles(r) })),
    ctx.renderedA.map((r) => ({ name: r.node.name, files: liveFiles(r), from: 'user-data' as const })));
  const rollout = planRollout(ctx.planB, diff, new Map(ctx.renderedB.map((r) => [r.node.name, liveFiles(r)])), { holder });
  const steps = rollout.plan.steps.filter((s) => s.action === 'update');
  const scriptDir = join(ctx.work, 'scripts');
  await mkdir(scriptDir, { recursive: true });
  for (const s of rollout.scripts) await writeFile(join(scriptDir, s.name), s.content, { mode: 0o700 });
  const holderFirst = name === 'rollout-holder-first';
  // The holder's script steers its new connections to a peer while its HAProxy restarts (the
  // VIP stays: no move, no failed request), unless keepalived changes there (then it drains).
  const holderStep = steps.find((s) => s.holder);
  const steers = holderStep !== undefined && canSteer(ctx.planB, { last: true, restarts: holderStep.restarts, deletes: holderStep.deletes });
  const order = holderFirst ? [...steps.filter((s) => s.holder), ...steps.filter((s) => !s.holder)] : steps;
  const bound = rolloutBoundMs();
  const failures: string[] = [];
  return measure(c, name, {
    action: async () => {
      const marks: { at: number; label: string }[] = [];
      await withKubelet(c, ctx, async () => {
        for (const s of order) {
          const node = c.byName(s.node);
          marks.push({ at: nowMs(), label: `update ${s.node}` });
          if (holderFirst && s.holder) {
            await copyFiles(ctx.roots.get(s.node)!, liveFiles(ctx.renderedB.find((r) => r.node.name === s.node)!));
            continue;
          }
          const r = await runScript(node, ctx, join(scriptDir, s.script!), holderFirst ? { K8S_HA_FORCE: '1' } : {});
          ctx.log?.(`    ${s.script}: exit ${r.code}`);
          if (r.code !== 0) failures.push(`${s.script} exited ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' | ')}`);
        }
      });
      return marks;
    },
    // Back on the holder (the highest priority): after the drain file goes, its check passes
    // `rise` times and it preempts.
    settled: () => c.holders().join() === holder,
    deadlineMs: 30_000,
    boundMs: bound,
    // The planned order: steering keeps the VIP where it is; a drain moves it away and back.
    // Holder first: not bounded; the outage it causes is the finding (checked against the bound
    // below).
    outageBounded: !holderFirst,
    maxMoves: holderFirst ? 4 : steers ? 0 : 2,
    lateFailuresFail: !holderFirst,
    checks: ({ records }) => {
      const notes = [...failures];
      if (holderFirst && !records.some((x) => !x.ok)) notes.push('updating the holder first failed no request: the lab does not show why the order matters');
      const failed = records.filter((x) => !x.ok).length;
      if (!holderFirst && steers && failed > 0) notes.push(`the planned order with a steering holder failed ${failed} request${failed === 1 ? '' : 's'}, expected none`);
      return notes;
    },
  });
}

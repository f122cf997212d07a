/**
 * Day two: the safe order in which to apply a {@link ClusterDiff} to a running cluster, and
 * the per-node update scripts (src/day2/script.ts) that apply it.
 *
 * Order (each step waits for the one before):
 * 1. nodes removed from the profile are taken out first (operator steps, stated, not
 *    automated: drain, `kubeadm reset` on it, `etcd member remove` from another member), so
 *    they hold no VIP and no etcd membership when the others stop listing them;
 * 2. the running control-plane nodes whose static pods change, the VIP holder last: restarting
 *    HAProxy or keepalived on the holder is the one restart that can cut the API, so it comes
 *    after every other node already runs the new config and can take the VIP over; without
 *    `holder`, the nodes go in ascending VRRP priority (with preemption the healthy node of
 *    highest priority holds the VIP), and every script refuses to run on a VIP holder unless it
 *    is the last step;
 * 3. new nodes are provisioned last, when every running keepalived already lists them as a
 *    unicast peer (a new node that hears no adverts would take the VIP too: two masters) and
 *    every HAProxy already has their backend (checked down until their apiserver answers).
 * Workers and first-boot-only changes (kubeadm config, bootstrap script) need no step on a
 * running node.
 */
import type { NodeFile, Plan } from '../model.js';
import { fail } from '../profile/errors.js';
import type { ClusterDiff, FileChange, StaticPodName } from './diff.js';
import { canSteer, updateScript } from './script.js';
import { KEEPALIVED_MANIFEST } from '../components/static-pods.js';
import { KEEPALIVED_CONF } from '../components/keepalived.js';
import { BOOTSTRAP_MARKER } from '../components/bootstrap.js';

/** A file the update script writes: path, mode and the SHA-256 it must have afterwards. */
export interface RolloutFile {
  path: string;
  mode: number;
  sha256: string;
}

/**
 * One step of a rollout.
 * - `action`: `remove` (operator steps on a node leaving the cluster), `update` (run
 *   `script` on the running node), `provision` (boot the new node from its user-data or
 *   config.ign);
 * - `holder`: the step updates the VIP holder (given, or assumed: highest priority);
 * - `files` / `deletes`: what the script writes (config files before manifests) and removes;
 * - `restarts`: static pods kubelet restarts;
 * - `script`: file name of the update script in the output directory;
 * - `run`: the command that runs it over SSH;
 * - `waitFor`: conditions the script (or the operator) waits for before the next step;
 * - `notes`: operator instructions (remove and provision steps).
 */
export interface RolloutStep {
  step: number;
  node: string;
  address?: string;
  action: 'remove' | 'update' | 'provision';
  holder: boolean;
  files: RolloutFile[];
  deletes: string[];
  restarts: StaticPodName[];
  script?: string;
  run?: string;
  waitFor: string[];
  notes: string[];
}

/**
 * A rollout plan. `holder`: the VIP holder the order assumes, and whether the user `given` it
 * or it is `assumed` (highest VRRP priority among the running control-plane nodes; the
 * scripts then check it). `firstBootOnly`: changed files no running node needs (per node).
 */
export interface RolloutPlan {
  cluster: string;
  against: string;
  vips: string[];
  holder: { node: string; source: 'given' | 'assumed' } | null;
  steps: RolloutStep[];
  firstBootOnly: { node: string; paths: string[] }[];
  /** Hazards of this change that the order cannot avoid (absent when there are none). */
  warnings?: RolloutWarning[];
}

/** A hazard of a rollout: what goes wrong, and what to do instead. */
export interface RolloutWarning {
  code: 'W_ADVERT_V2';
  message: string;
  hint: string;
}

/**
 * A warning when the rollout changes keepalived's advert_int while VRRPv2 is involved (the old
 * or the new keepalived.conf has no `vrrp_version 3`): a VRRPv2 router discards an advert whose
 * Adver Int differs from its own (RFC 3768 section 7.1), so while old and new nodes run side
 * by side each ignores the other's adverts and both become MASTER (two VIP holders). VRRPv3
 * has no such check: a Backup adopts the Master's interval (RFC 5798 section 6.4.2).
 * Read from the redacted unified diff of keepalived.conf (`-`/`+` lines of `advert_int`).
 */
export function advertWarnings(plan: Plan, diff: ClusterDiff): RolloutWarning[] {
  for (const n of diff.nodes) {
    if (n.status !== 'changed') continue;
    const conf = n.files.find((f) => f.path === KEEPALIVED_CONF && f.diff !== undefined);
    if (!conf?.diff) continue;
    const lines = conf.diff.split('\n');
    const was = lines.map((l) => /^-\s*advert_int (\S+)$/.exec(l)?.[1]).find((v) => v !== undefined);
    const now = lines.map((l) => /^\+\s*advert_int (\S+)$/.exec(l)?.[1]).find((v) => v !== undefined);
    if (was === undefined || now === undefined || was === now) continue;
    // The old version: changed if the diff removes or adds `vrrp_version 3`, else the new one.
    const wasV3 = lines.some((l) => /^-\s*vrrp_version 3$/.test(l)) || (plan.keepalived.vrrpVersion === 3 && !lines.some((l) => /^\+\s*vrrp_version 3$/.test(l)));
    if (plan.keepalived.vrrpVersion === 3 && wasV3) return [];
    return [
      {
        code: 'W_ADVERT_V2',
        message: `keepalived advert_int changes from ${was} s to ${now} s with VRRP version 2: a VRRPv2 router discards adverts whose interval differs from its own (RFC 3768 section 7.1), so while updated and not yet updated nodes run side by side both sides become MASTER and claim the VIP`,
        hint: 'run the update scripts of all control-plane nodes back to back in a maintenance window (two MASTERs until the last one is done), or change the interval with keepalived.vrrpVersion = 3 in place (a VRRPv3 Backup adopts the Master\'s interval, RFC 5798 section 6.4.2); the switch to version 3 is itself such a change once',
      },
    ];
  }
  return [];
}

/** A rollout plan and the update scripts to write next to it (file name -> text; mode 0700: they embed configs with secrets). */
export interface Rollout {
  plan: RolloutPlan;
  scripts: { name: string; content: string; mode: number }[];
}


/** The command that tells whether a node holds the VIP(s): prints a line per VIP it has. */
export function holderCheck(plan: Plan): string {
  return plan.vip.addresses.map((v) => `ip -o addr show to ${v}`).join('; ');
}

/** Whether a changed file is applied on a running node (manifest or mounted config). */
const live = (f: FileChange) => f.appliedBy !== 'first-boot';

/**
 * Plans the rollout of `diff` (the new render of `plan` against an earlier output) and makes
 * each updated node's script from the node's new files (`files`: node name -> its files as
 * the new render has them). See the module comment for the order.
 * `replaced`: nodes that keep their name (and place in the profile) but are dead or rebuilt:
 * taken out first like a removed node, provisioned last like a new one, never updated.
 * @throws ProblemError (E073, in the profile) when `holder` names no running control-plane node, or a `replaced`
 *   node is not in both the earlier output and the plan, or is the init node.
 */
export function planRollout(plan: Plan, diff: ClusterDiff, files: ReadonlyMap<string, readonly NodeFile[]>, opts: { holder?: string; replaced?: readonly string[] } = {}): Rollout {
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const replaced = new Set(opts.replaced ?? []);
  for (const name of replaced) {
    const node = byName.get(name);
    if (node === undefined || !diff.nodes.some((n) => n.name === name && (n.status === 'changed' || n.status === 'unchanged'))) {
      fail('E_ROLLOUT', ['--replaced'], `${name} is not a node of both the earlier output and ${plan.source}`, 'name a node that died (or is being rebuilt) and keeps its name in the profile; a node under a new name is an ordinary removal plus addition', plan.source);
    }
    if (node.role === 'init') {
      fail('E_ROLLOUT', ['--replaced'], `${name} is the init node, whose first boot runs kubeadm init: provisioning it again would start a second cluster`, `move ${name} after the other control-plane nodes in the profile's nodes (the first one runs kubeadm init), so that its replacement joins`, plan.source);
    }
  }
  // A replaced node is taken out like a removed one and provisioned like a new one.
  const dnodes = diff.nodes.map((n) => (replaced.has(n.name) ? { ...n, status: 'added' as const, restarts: [] } : n));
  diff = { ...diff, nodes: dnodes };
  const running = diff.nodes.filter((n) => (n.status === 'changed' || n.status === 'unchanged') && byName.get(n.name)?.vrrp !== undefined);
  if (opts.holder !== undefined && !running.some((n) => n.name === opts.holder)) {
    fail('E_ROLLOUT', ['--holder'], `${opts.holder} is not a running control-plane node of ${plan.source}`, `name one of: ${running.map((n) => n.name).join(', ') || '(none)'}; find it with: ${holderCheck(plan)}`, plan.source);
  }
  const priority = (name: string) => byName.get(name)?.vrrp?.priority ?? 0;
  const assumed = [...running].sort((a, b) => priority(b.name) - priority(a.name))[0]?.name;
  const holderName = opts.holder ?? assumed;
  const steps: RolloutStep[] = [];
  const scripts: Rollout['scripts'] = [];
  /** Script makers, run once the number of steps is known. */
  const pending: (() => void)[] = [];
  const check = holderCheck(plan);
  const added = new Set(diff.nodes.filter((d) => d.status === 'added').map((d) => d.name));
  /** The apiservers that answer during the rollout: control-plane nodes not new in it. */
  const apiservers = plan.nodes.filter((n) => n.vrrp !== undefined && !added.has(n.name)).map((n) => n.address);

  for (const n of [...diff.nodes.filter((d) => d.status === 'removed'), ...diff.nodes.filter((d) => replaced.has(d.name))]) {
    steps.push({
      step: steps.length + 1,
      node: n.name,
      action: 'remove',
      holder: false,
      files: [],
      deletes: [],
      restarts: [],
      waitFor: [`${n.name} is gone from \`kubectl get nodes\` and from \`etcdctl member list\``, `${n.name} holds no VIP (on it: ${check} prints nothing) or is powered off`],
      notes: [
        `kubectl drain ${n.name} --ignore-daemonsets --delete-emptydir-data; kubectl delete node ${n.name}`,
        `if it still runs: on ${n.name}, kubeadm reset --force (this also deletes its static pod manifests, so its keepalived gives up the VIP)`,
        `if it was a control-plane node and is dead: from a healthy control-plane node, etcdctl member list, then etcdctl member remove <ID of ${n.name}> (kubeadm reset does this itself on a live node)`,
        ...(replaced.has(n.name)
          ? [`to rebuild ${n.name} on its old disk: kubeadm reset --force, rm -f ${BOOTSTRAP_MARKER}, and cloud-init clean (cloud-init) before it boots again; it is provisioned in the last step`]
          : []),
      ],
    });
  }

  const updates = diff.nodes
    .filter((d) => d.status === 'changed' && d.files.some(live))
    .sort((a, b) => Number(a.name === holderName) - Number(b.name === holderName) || priority(a.name) - priority(b.name) || (a.name < b.name ? -1 : 1));
  updates.forEach((d, i) => {
    const last = i === updates.length - 1;
    const node = byName.get(d.name)!;
    const nodeFiles = new Map((files.get(d.name) ?? []).map((f) => [f.path, f]));
    const writes = d.files.filter((f) => live(f) && f.change !== 'removed').map((f) => nodeFiles.get(f.path)!);
    // Configs before manifests: a manifest is what makes kubelet restart a pod, and the
    // pod must then find its new config.
    writes.sort((a, b) => Number(a.path.endsWith('.yaml') && a.path.startsWith('/etc/kubernetes/manifests/')) - Number(b.path.endsWith('.yaml') && b.path.startsWith('/etc/kubernetes/manifests/')) || (a.path < b.path ? -1 : 1));
    const deletes = d.files.filter((f) => live(f) && f.change === 'removed').map((f) => f.path);
    const name = `update-${d.name}.sh`;
    const waitFor = [
      ...d.restarts.map((p) => `static pod ${p} on ${d.name} running and ready with the new config hash (crictl pods --name '^${p}-${d.name}$' --state ready)`),
      ...(d.restarts.includes('haproxy') ? [`https://${plan.family === 4 ? '127.0.0.1' : '[::1]'}:${plan.vip.port}/healthz through the local HAProxy answers 200, and every apiserver backend answers its /healthz`] : []),
    ];
    const step = steps.length + 1;
    // The script may have to stop keepalived on a VIP holder (removing its manifest) and
    // must then be able to write it back, changed or not.
    const scriptWrites = writes.some((f) => f.path === KEEPALIVED_MANIFEST) || !nodeFiles.has(KEEPALIVED_MANIFEST) ? writes : [...writes, nodeFiles.get(KEEPALIVED_MANIFEST)!];
    pending.push(() => scripts.push({ name, content: updateScript(plan, node, { step, of: steps.length, last, writes: scriptWrites, deletes, restarts: d.restarts, apiservers }), mode: 0o700 }));
    steps.push({
      step: steps.length + 1,
      node: d.name,
      address: node.address,
      action: 'update',
      holder: d.name === holderName,
      files: writes.map((f) => ({ path: f.path, mode: f.mode, sha256: d.files.find((c) => c.path === f.path)!.newSha256! })),
      deletes,
      restarts: d.restarts,
      script: name,
      run: `ssh root@${node.address} sh -s < ${name}`,
      waitFor,
      notes: last
        ? [canSteer(plan, { last, restarts: d.restarts, deletes })
            ? `last update step: ${d.name} may hold the VIP (${check}); the script then steers new connections to the VIP to an updated peer with nftables while HAProxy restarts, so the VIP stays (it drains the node instead, saying why, without nft, IP forwarding or a healthy peer)`
            : `last update step: ${d.name} may hold the VIP (${check}); the script then drains it first, so that the VIP moves to an updated node and back`]
        : [`must not hold the VIP (on it: ${check} prints nothing); the script refuses to run on a VIP holder`],
    });
  });

  for (const d of diff.nodes.filter((x) => x.status === 'added')) {
    const node = byName.get(d.name)!;
    steps.push({
      step: steps.length + 1,
      node: d.name,
      address: node.address,
      action: 'provision',
      holder: false,
      files: [],
      deletes: [],
      restarts: [],
      waitFor: [`${d.name} is Ready in \`kubectl get nodes\``],
      notes: [
        `boot ${d.name} with its user-data (cloud-init) or config.ign (Ignition) from \`k8s-ha render\` (or its bundle entry)`,
        ...(node.role !== 'worker'
          ? [
              'a control-plane join needs the certificate key uploaded within the last 2 h and an unexpired bootstrap token: see README "Day two", "When secrets must change"',
            ]
          : ['a worker join needs an unexpired bootstrap token: see README "Day two", "When secrets must change"']),
      ],
    });
  }

  for (const make of pending) make();
  const firstBootOnly = diff.nodes
    .filter((d) => d.status === 'changed')
    .map((d) => ({ node: d.name, paths: d.files.filter((f) => !live(f)).map((f) => f.path) }))
    .filter((x) => x.paths.length > 0);
  const warnings = advertWarnings(plan, diff);
  return {
    plan: {
      cluster: diff.cluster,
      against: diff.against,
      vips: plan.vip.addresses,
      holder: holderName === undefined || updates.length === 0 ? null : { node: holderName, source: opts.holder !== undefined ? 'given' : 'assumed' },
      steps,
      firstBootOnly,
      ...(warnings.length > 0 ? { warnings } : {}),
    },
    scripts,
  };
}

/** The text form of a rollout plan, as `k8s-ha rollout` prints it. */
export function formatRollout(r: RolloutPlan, outDir?: string): string {
  const lines = [`k8s-ha rollout: cluster ${r.cluster} against ${r.against}: ${r.steps.length} step${r.steps.length === 1 ? '' : 's'}`];
  if (r.holder) lines.push(`VIP ${r.vips.join(', ')} holder: ${r.holder.node} (${r.holder.source === 'given' ? 'given with --holder' : 'assumed: highest VRRP priority; check with ip -o addr show to VIP, or give --holder'}); updated last`);
  if (r.steps.length === 0) lines.push('nothing to do on the running nodes');
  for (const s of r.steps) {
    lines.push(`step ${s.step}: ${s.action} ${s.node}${s.address ? ` (${s.address})` : ''}${s.holder ? ' [VIP holder]' : ''}`);
    for (const f of s.files) lines.push(`    write ${f.path} (mode ${f.mode.toString(8).padStart(4, '0')}, sha256 ${f.sha256})`);
    for (const p of s.deletes) lines.push(`    delete ${p}`);
    if (s.restarts.length > 0) lines.push(`    kubelet restarts: ${s.restarts.join(', ')}`);
    if (s.run) lines.push(`    run: ${outDir !== undefined ? s.run.replace(`< ${s.script}`, `< ${outDir}/${s.script}`) : s.run}`);
    for (const n of s.notes) lines.push(`    note: ${n}`);
    for (const w of s.waitFor) lines.push(`    wait for: ${w}`);
  }
  for (const f of r.firstBootOnly) lines.push(`first boot only on ${f.node} (not copied to the running node): ${f.paths.join(', ')}`);
  for (const w of r.warnings ?? []) lines.push(`warning ${w.code}: ${w.message}`, `  hint: ${w.hint}`);
  return `${lines.join('\n')}\n`;
}

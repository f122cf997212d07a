/**
 * Everything one node receives, assembled from the components (one file each).
 */
import type { NodeFile, NodePayload, Plan, PlanNode } from '../model.js';
import type { ClusterSecrets } from '../secrets/store.js';
import { bootstrapPayload } from './bootstrap.js';
import { haproxyCfg } from './haproxy.js';
import { checkScript, keepalivedConf } from './keepalived.js';
import { caFiles, kubeadmConfig } from './kubeadm.js';
import { staticPodFiles } from './static-pods.js';

/**
 * The files every control-plane node gets alike (the check script, haproxy.cfg and the two
 * static pods depend on the plan alone): made once per plan, shared read-only (frozen) by the
 * nodes' payloads. A render of 3 nodes serialises each static pod once instead of three times.
 */
const sharedFiles = new WeakMap<Plan, readonly NodeFile[]>();
function controlPlaneFiles(plan: Plan): readonly NodeFile[] {
  let files = sharedFiles.get(plan);
  if (files === undefined) {
    files = [checkScript(plan), haproxyCfg(plan), ...staticPodFiles(plan)].map((f) => Object.freeze(f));
    sharedFiles.set(plan, files);
  }
  return files;
}

/** A bootstrap step as cached: every array and object frozen. */
type SharedPayload = Omit<NodePayload, 'files'> & { files: readonly NodeFile[] };

const sharedBootstrap = new WeakMap<Plan, Map<PlanNode['role'], SharedPayload>>();

/**
 * The bootstrap step of a role (it depends on the plan and the role alone): made once per plan
 * and role (a bundle of 1,000 workers builds the script 3 times, not 1,003), shared read-only
 * (frozen) by the nodes' payloads. Like {@link controlPlaneFiles}, it relies on a plan not
 * changing once resolvePlan has made it.
 */
function bootstrapFor(plan: Plan, role: PlanNode['role']): SharedPayload {
  let byRole = sharedBootstrap.get(plan);
  if (byRole === undefined) sharedBootstrap.set(plan, (byRole = new Map()));
  let boot = byRole.get(role);
  if (boot === undefined) {
    const b = bootstrapPayload(plan, role);
    boot = {
      files: Object.freeze(b.files.map((f) => Object.freeze(f))),
      runcmd: Object.freeze(b.runcmd.map((c) => Object.freeze(c))),
      units: Object.freeze(b.units.map((u) => Object.freeze(u))),
      downloads: Object.freeze((b.downloads ?? []).map((d) => Object.freeze(d))),
    };
    byRole.set(role, boot);
  }
  return boot;
}

/**
 * /etc/hostname (0644, the name and a newline, as cloud-init's Debian distro and Butane write
 * it): how Ignition systems (Fedora CoreOS, Flatcar) get their hostname, and in write_files the
 * same file cloud-init's `hostname:` leads to, so both formats put the same files on the node.
 */
export function hostnameFile(node: PlanNode): NodeFile {
  return { path: '/etc/hostname', mode: 0o644, content: `${node.name}\n` };
}

/**
 * The payload of one node: files sorted by path (so both formats list them in one order).
 * Every node gets /etc/hostname, its kubeadm config and the bootstrap step (script, runcmd, unit, optional
 * sysext download); control-plane nodes keepalived, HAProxy and their static pods; the init
 * node also the cluster CA. The `files` array is the node's own; the file objects it shares
 * with other nodes, and `runcmd`, `units` and `downloads`, are frozen and shared by every
 * node of the same plan and role.
 */
export function nodePayload(plan: Plan, node: PlanNode, secrets: ClusterSecrets): NodePayload {
  const boot = bootstrapFor(plan, node.role);
  const files = [hostnameFile(node), kubeadmConfig(plan, node, secrets), ...boot.files];
  if (node.role !== 'worker') files.push(keepalivedConf(plan, node), ...controlPlaneFiles(plan));
  if (node.role === 'init') files.push(...caFiles(secrets).filter((f) => plan.kubernetes.caKey !== 'deliver' || !f.secret));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...boot, files };
}

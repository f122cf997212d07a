/**
 * Everything one node receives, assembled from the components (one file each).
 */
import type { NodeFile, NodePayload, Plan, PlanNode } from '../model.js';
import type { ClusterSecrets } from '../secrets/store.js';
import { BOOTSTRAP_MARKER, BOOTSTRAP_SCRIPT, BOOTSTRAP_UNIT, SYSEXT_IMAGE, bootstrapPayload } from './bootstrap.js';
import { HAPROXY_CFG, haproxyCfg } from './haproxy.js';
import { CHECK_SCRIPT, KEEPALIVED_CONF, checkScript, keepalivedConf } from './keepalived.js';
import { CA_CERT, CA_KEY, KUBEADM_CONFIG, caFiles, kubeadmConfig } from './kubeadm.js';
import { MANIFESTS_DIR, haproxyPodFile, keepalivedPodFile } from './static-pods.js';
import { vrrpPreflightScript } from './vrrp-preflight.js';
import { CRICTL_CONF, INSTALL_SCRIPT, MODULES_CONF, SYSCTL_CONF, installFiles } from './install.js';

/**
 * The files every control-plane node gets alike (the check script, haproxy.cfg and the HAProxy
 * static pod, whose config hash covers haproxy.cfg alone, depend on the plan alone): made once
 * per plan, shared read-only (frozen) by the nodes' payloads. The keepalived static pod is per
 * node: its config hash covers the node's own keepalived.conf.
 */
const sharedFiles = new WeakMap<Plan, readonly NodeFile[]>();
function controlPlaneFiles(plan: Plan): readonly NodeFile[] {
  let files = sharedFiles.get(plan);
  if (files === undefined) {
    const config = [checkScript(plan), haproxyCfg(plan)];
    // With keepalived.trackProcess the HAProxy command names the node: its pod is per node (nodePayload).
    files = [...config, ...(plan.keepalived.trackProcess ? [] : [haproxyPodFile(plan, config)])].map((f) => Object.freeze(f));
    sharedFiles.set(plan, files);
  }
  return files;
}

const sharedInstall = new WeakMap<Plan, NonNullable<NodePayload['install']>>();
/** The `[install]` step of a plan (the same on every node), made once, frozen. */
function installFor(plan: Plan): NonNullable<NodePayload['install']> {
  let install = sharedInstall.get(plan);
  if (install === undefined) {
    install = Object.freeze({ files: Object.freeze(installFiles(plan.kubernetes.version).map((f) => Object.freeze(f))), runcmd: Object.freeze([Object.freeze([INSTALL_SCRIPT])]) });
    sharedInstall.set(plan, install);
  }
  return install;
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
  if (node.role !== 'worker') {
    const shared = controlPlaneFiles(plan);
    const conf = keepalivedConf(plan, node);
    files.push(conf, ...shared, keepalivedPodFile(plan, [conf, ...shared]));
    if (plan.keepalived.trackProcess) files.push(haproxyPodFile(plan, shared, node.name));
    if (plan.keepalived.vrrpPreflight === 'enforce') files.push(vrrpPreflightScript(plan, node));
  }
  if (node.role === 'init') files.push(...caFiles(secrets).filter((f) => plan.kubernetes.caKey !== 'deliver' || !f.secret));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (plan.install) return { ...boot, files, install: installFor(plan) };
  return { ...boot, files };
}

/**
 * Every path (and systemd unit, as `unit:NAME`) k8s-ha manages on any node of the plan, with
 * what it is, for the collision check of the user's own content (profile/user-content.ts).
 * Keys ending in `/` are whole directories. Role-independent on purpose: a user file that
 * writes the CA key is wrong on a worker too.
 */
export function managedPaths(plan: Plan): ReadonlyMap<string, string> {
  const install: [string, string][] = plan.install
    ? [MODULES_CONF, SYSCTL_CONF, CRICTL_CONF, '/etc/containerd/config.toml', '/etc/apt/sources.list.d/kubernetes.list'].map((p) => [p, `written by [install] (${INSTALL_SCRIPT})`])
    : [];
  return new Map([
    ...install,
    ['/etc/k8s-ha/', `k8s-ha's own directory (${KUBEADM_CONFIG}, ${BOOTSTRAP_SCRIPT})`],
    ['/var/lib/k8s-ha/', `k8s-ha's state directory (${BOOTSTRAP_MARKER})`],
    [KEEPALIVED_CONF, 'the keepalived config made from [vip], [keepalived] and the nodes'],
    [CHECK_SCRIPT, "keepalived's health check of the local HAProxy"],
    [HAPROXY_CFG, 'the HAProxy config made from [haproxy] and the nodes'],
    [`${MANIFESTS_DIR}/haproxy.yaml`, 'the HAProxy static pod'],
    [`${MANIFESTS_DIR}/keepalived.yaml`, 'the keepalived static pod'],
    [CA_CERT, 'the cluster CA k8s-ha generates (secrets file)'],
    [CA_KEY, 'the cluster CA key k8s-ha generates (secrets file)'],
    [SYSEXT_IMAGE, 'the Kubernetes sysext image of kubernetes.sysext'],
    ['/etc/hostname', 'the hostname, which is the node name (nodes[].name)'],
    [`unit:${BOOTSTRAP_UNIT}`, 'the unit that runs the kubeadm bootstrap once'],
  ]);
}

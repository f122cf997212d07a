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
import { VIP_WATCH, vipWatchRuns, vipWatchScript } from './vip-watch.js';
import { CRICTL_CONF, INSTALL_SCRIPT, MODULES_CONF, SYSCTL_CONF, installFiles } from './install.js';

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
 * node also the cluster CA.
 */
export function nodePayload(plan: Plan, node: PlanNode, secrets: ClusterSecrets): NodePayload {
  const boot = bootstrapPayload(plan, node.role);
  const files = [hostnameFile(node), kubeadmConfig(plan, node, secrets), ...boot.files];
  if (node.role !== 'worker') {
    // The HAProxy static pod's config hash covers the files under /etc/haproxy, keepalived's
    // those under /etc/keepalived.
    const shared = [checkScript(plan), haproxyCfg(plan)];
    const own = [keepalivedConf(plan, node), ...(vipWatchRuns(plan) ? [vipWatchScript(plan, node)] : [])];
    // With keepalived.trackProcess the HAProxy command names the node.
    files.push(...own, ...shared, haproxyPodFile(plan, shared, node.name), keepalivedPodFile(plan, [...own, ...shared]));
    if (plan.keepalived.vrrpPreflight === 'enforce') files.push(vrrpPreflightScript(plan, node));
  }
  if (node.role === 'init') files.push(...caFiles(secrets).filter((f) => plan.kubernetes.caKey !== 'deliver' || !f.secret));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const payload: NodePayload = { files, runcmd: boot.runcmd, units: boot.units, downloads: boot.downloads ?? [] };
  if (plan.install) payload.install = { files: installFiles(plan.kubernetes.version), runcmd: [[INSTALL_SCRIPT]] };
  return payload;
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
    [VIP_WATCH, 'the VIP watch sidecar of the keepalived pod (keepalived.vipWatch)'],
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

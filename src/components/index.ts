/**
 * Everything one node receives, assembled from the components (one file each).
 */
import type { NodePayload, Plan, PlanNode } from '../model.js';
import type { ClusterSecrets } from '../secrets/store.js';
import { bootstrapPayload } from './bootstrap.js';
import { haproxyCfg } from './haproxy.js';
import { checkScript, keepalivedConf } from './keepalived.js';
import { caFiles, kubeadmConfig } from './kubeadm.js';
import { staticPodFiles } from './static-pods.js';

/**
 * The payload of one node: files sorted by path (so both formats list them in one order).
 * Every node gets its kubeadm config and the bootstrap step (script, runcmd, unit, optional
 * sysext download); control-plane nodes keepalived, HAProxy and their static pods; the init
 * node also the cluster CA.
 */
export function nodePayload(plan: Plan, node: PlanNode, secrets: ClusterSecrets): NodePayload {
  const boot = bootstrapPayload(plan, node);
  const files = [kubeadmConfig(plan, node, secrets), ...boot.files];
  if (node.role !== 'worker') files.push(keepalivedConf(plan, node), checkScript(plan), haproxyCfg(plan), ...staticPodFiles(plan));
  if (node.role === 'init') files.push(...caFiles(secrets));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...boot, files };
}

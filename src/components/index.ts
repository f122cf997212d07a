/**
 * Everything one node receives, assembled from the components (one file each).
 */
import type { NodePayload, Plan, PlanNode } from '../model.js';
import { haproxyCfg } from './haproxy.js';
import { checkScript, keepalivedConf } from './keepalived.js';
import { kubeadmConfig } from './kubeadm.js';
import { staticPodFiles } from './static-pods.js';

/**
 * The payload of one node: files sorted by path (so both formats list them in one order).
 * Control-plane nodes get keepalived, HAProxy, their static pods and the kubeadm config;
 * workers only the kubeadm config.
 */
export function nodePayload(plan: Plan, node: PlanNode): NodePayload {
  const files = [kubeadmConfig(plan, node)];
  if (node.role !== 'worker') files.push(keepalivedConf(plan, node), checkScript(plan), haproxyCfg(plan), ...staticPodFiles(plan));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, runcmd: [], units: [] };
}

/**
 * plan -> per-node outputs: the payload of each node rendered to every format.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { networkConfigV2, staticNetwork } from './bundle/network.js';
import { nodePayload } from './components/index.js';
import { renderCloudInit } from './formats/cloud-init.js';
import { cloudConfigMultipart } from './formats/mime.js';
import { newerUserIgnition, renderIgnition } from './formats/ignition.js';
import type { IgnitionVersion } from './versions.js';
import { fail } from './profile/errors.js';
import { toYaml } from './formats/yaml.js';
import type { NodePayload, Plan, PlanNode } from './model.js';
import type { ClusterSecrets } from './secrets/store.js';

/**
 * What `render` produces for one node: its payload rendered to every format.
 */
export interface RenderedNode {
  readonly node: PlanNode;
  readonly payload: NodePayload;
  /** #cloud-config text (NoCloud `user-data`, or a cloud provider's user-data). */
  readonly userData: string;
  /** NoCloud `meta-data` YAML: instance-id (changes whenever user-data does) and local-hostname. */
  readonly metaData: string;
  /** Ignition JSON (`config.ign`). */
  readonly ignition: string;
  /**
   * NoCloud `network-config` (version 2) when the node has static network settings (a
   * gateway or DNS servers in the profile), else undefined: the image's DHCP applies.
   * @throws ProblemError for static settings without a prefix (a loaded profile never has them).
   */
  readonly networkConfig: string | undefined;
}

/** Options of {@link renderCluster}. */
export interface RenderOptions {
  ignitionVersion?: IgnitionVersion;
  /** Only this node (by name); all nodes when absent. */
  node?: string;
}

/**
 * Renders every node of the plan (or the one named in `opts.node`) with the cluster's secrets
 * (see secrets/store.ts: the same secrets give byte-identical outputs).
 * @throws Error when `opts.node` names no node of the plan; whatever {@link renderNode} throws.
 */
export function renderCluster(plan: Plan, secrets: ClusterSecrets, opts: RenderOptions = {}): RenderedNode[] {
  const nodes = opts.node === undefined ? plan.nodes : plan.nodes.filter((n) => n.name === opts.node);
  if (nodes.length === 0) throw new Error(`no node named "${opts.node}" in ${plan.source}; nodes: ${plan.nodes.map((n) => n.name).join(', ')}`);
  return nodes.map((node) => renderNode(plan, node, secrets, opts.ignitionVersion));
}

/**
 * Renders one node of the plan: its payload, as cloud-init user-data, NoCloud meta-data,
 * Ignition (spec `ignitionVersion`, default 3.3.0) and network-config. The bundle calls this
 * node by node so that memory does not grow with the cluster.
 * @throws ProblemError (E_USER_CONTENT) when one of the node's own Ignition configs has a newer
 *   spec than `ignitionVersion` (Ignition cannot merge it); ProblemError for static network
 *   settings without a prefix (a loaded profile never has them).
 */
export function renderNode(plan: Plan, node: PlanNode, secrets: ClusterSecrets, ignitionVersion: IgnitionVersion = '3.3.0'): RenderedNode {
  const newer = newerUserIgnition(node, ignitionVersion);
  if (newer)
    fail('E_USER_CONTENT', newer.field, `${newer.file} is Ignition spec ${newer.version}, newer than the output's ${ignitionVersion}: Ignition cannot merge a newer spec into an older one`, `render with --ignition-version ${newer.version}, or write ${newer.file} as spec ${ignitionVersion}`);
  const payload = nodePayload(plan, node, secrets);
  const ours = renderCloudInit(node, payload, [
    `k8s-ha: node ${node.name} (${node.role}${node.vrrp ? `, VRRP ${node.vrrp.state} priority ${node.vrrp.priority}` : ''}) of cluster ${plan.name}.`,
    `controlPlaneEndpoint ${plan.kubernetes.controlPlaneEndpoint}. Generated file: do not edit, re-render the profile.`,
  ]);
  // The user's own cloud-config: one MIME multipart, the user's parts first (formats/mime.ts).
  const user = node.userContent?.cloudConfig ?? [];
  const userData =
    user.length === 0
      ? ours
      : cloudConfigMultipart([...user.map((p, i) => ({ filename: `user-${i + 1}-${basename(p.file)}`, text: p.text })), { filename: 'k8s-ha.cfg', text: ours }]);
  // The instance-id changes whenever user-data does (cloud-init then runs again).
  const instanceId = `${plan.name}-${node.name}-${createHash('sha256').update(userData).digest('hex').slice(0, 12)}`;
  const net = staticNetwork(node);
  return {
    node,
    payload,
    userData,
    metaData: toYaml({ 'instance-id': instanceId, 'local-hostname': node.name }, { sortKeys: false }),
    ignition: renderIgnition(payload, ignitionVersion, node),
    networkConfig: net === undefined ? undefined : networkConfigV2(net),
  };
}

/**
 * plan -> per-node outputs: the payload of each node rendered to every format.
 */
import { createHash } from 'node:crypto';
import { networkConfigV2, staticNetwork } from './bundle/network.js';
import { nodePayload } from './components/index.js';
import { renderCloudInit } from './formats/cloud-init.js';
import { renderIgnition, type IgnitionVersion } from './formats/ignition.js';
import { toYaml } from './formats/yaml.js';
import type { NodePayload, Plan, PlanNode } from './model.js';
import type { ClusterSecrets } from './secrets/store.js';

/**
 * What `render` produces for one node. The three texts are rendered when first read, then
 * kept: a caller that needs one format (`render --format cloud-init`) pays for that one.
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
   * @throws BundleError for static settings without a prefix (a loaded profile never has them).
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
 * @throws Error when `opts.node` names no node of the plan.
 */
export function renderCluster(plan: Plan, secrets: ClusterSecrets, opts: RenderOptions = {}): RenderedNode[] {
  const nodes = opts.node === undefined ? plan.nodes : plan.nodes.filter((n) => n.name === opts.node);
  if (nodes.length === 0) throw new Error(`no node named "${opts.node}" in ${plan.source}; nodes: ${plan.nodes.map((n) => n.name).join(', ')}`);
  return nodes.map((node) => renderNode(plan, node, secrets, opts.ignitionVersion));
}

/**
 * Renders one node of the plan: its payload now, and as cloud-init user-data, NoCloud
 * meta-data and Ignition when those are first read. The bundle calls this node by node so
 * that memory does not grow with the cluster.
 */
export function renderNode(plan: Plan, node: PlanNode, secrets: ClusterSecrets, ignitionVersion?: IgnitionVersion): RenderedNode {
  const payload = nodePayload(plan, node, secrets);
  let userData: string | undefined;
  let metaData: string | undefined;
  let ignition: string | undefined;
  return {
    node,
    payload,
    get userData() {
      return (userData ??= renderCloudInit(node, payload, [
        `k8s-ha: node ${node.name} (${node.role}${node.vrrp ? `, VRRP ${node.vrrp.state} priority ${node.vrrp.priority}` : ''}) of cluster ${plan.name}.`,
        `controlPlaneEndpoint ${plan.kubernetes.controlPlaneEndpoint}. Generated file: do not edit, re-render the profile.`,
      ]));
    },
    get metaData() {
      // The instance-id changes whenever user-data does (cloud-init then runs again).
      return (metaData ??= toYaml(
        { 'instance-id': `${plan.name}-${node.name}-${createHash('sha256').update(this.userData).digest('hex').slice(0, 12)}`, 'local-hostname': node.name },
        { sortKeys: false },
      ));
    },
    get ignition() {
      return (ignition ??= renderIgnition(payload, ignitionVersion));
    },
    get networkConfig() {
      const net = staticNetwork(node);
      return net === undefined ? undefined : networkConfigV2(net);
    },
  };
}

/**
 * The kubeadm configuration file for a node, as typed objects serialised to a multi-document
 * YAML file. Field names follow kubeadm's v1beta3/v1beta4 types
 * (kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm, see shared/schemas/kubeadm).
 */
import type { NodeFile, Plan, PlanNode } from '../model.js';
import { toYamlStream } from '../formats/yaml.js';

/** Where the kubeadm config lands: not under /run or /tmp, which Ignition cannot write. */
export const KUBEADM_CONFIG = '/etc/k8s-ha/kubeadm.yaml';

/** kubeadm.k8s.io API version for a Kubernetes version: v1beta4 from 1.31 (GA there), else v1beta3. */
export function kubeadmApiVersion(version: string): 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4' {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  const [major, minor] = [Number(m?.[1]), Number(m?.[2])];
  return major > 1 || (major === 1 && minor >= 31) ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

/** APIEndpoint: where this node's apiserver listens. */
export interface APIEndpoint {
  advertiseAddress: string;
  bindPort: number;
}

export interface NodeRegistrationOptions {
  name: string;
}

export interface ClusterConfiguration {
  apiVersion: string;
  kind: 'ClusterConfiguration';
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  apiServer: { certSANs: string[] };
  networking?: { podSubnet?: string; serviceSubnet?: string };
}

export interface InitConfiguration {
  apiVersion: string;
  kind: 'InitConfiguration';
  localAPIEndpoint: APIEndpoint;
  nodeRegistration: NodeRegistrationOptions;
}

export interface JoinConfiguration {
  apiVersion: string;
  kind: 'JoinConfiguration';
  nodeRegistration: NodeRegistrationOptions;
  discovery: { bootstrapToken: { apiServerEndpoint: string } };
  controlPlane?: { localAPIEndpoint: APIEndpoint };
}

/** ClusterConfiguration shared by every node: the VIP endpoint, certSANs, networking. */
export function clusterConfiguration(plan: Plan): ClusterConfiguration {
  const k = plan.kubernetes;
  const cfg: ClusterConfiguration = {
    apiVersion: kubeadmApiVersion(k.version),
    kind: 'ClusterConfiguration',
    clusterName: plan.name,
    kubernetesVersion: k.version,
    controlPlaneEndpoint: k.controlPlaneEndpoint,
    apiServer: { certSANs: k.certSANs },
  };
  if (k.podSubnet !== undefined || k.serviceSubnet !== undefined) {
    cfg.networking = {};
    if (k.podSubnet !== undefined) cfg.networking.podSubnet = k.podSubnet;
    if (k.serviceSubnet !== undefined) cfg.networking.serviceSubnet = k.serviceSubnet;
  }
  return cfg;
}

/**
 * The documents for one node: the init node gets InitConfiguration + ClusterConfiguration;
 * the other control-plane nodes a JoinConfiguration (controlPlane.localAPIEndpoint = node
 * address and apiServerPort, discovery through the VIP endpoint).
 */
export function kubeadmDocuments(plan: Plan, node: PlanNode): (ClusterConfiguration | InitConfiguration | JoinConfiguration)[] {
  const apiVersion = kubeadmApiVersion(plan.kubernetes.version);
  const local: APIEndpoint = { advertiseAddress: node.address, bindPort: plan.kubernetes.apiServerPort };
  const nodeRegistration = { name: node.name };
  if (node.role === 'init') {
    return [{ apiVersion, kind: 'InitConfiguration', localAPIEndpoint: local, nodeRegistration }, clusterConfiguration(plan)];
  }
  const join: JoinConfiguration = {
    apiVersion,
    kind: 'JoinConfiguration',
    nodeRegistration,
    discovery: { bootstrapToken: { apiServerEndpoint: plan.kubernetes.controlPlaneEndpoint } },
  };
  if (node.role === 'control-plane') join.controlPlane = { localAPIEndpoint: local };
  // No ClusterConfiguration here: kubeadm join reads it from the cluster (kubeadm-config
  // ConfigMap uploaded by init) and ignores one in the file with a warning.
  return [join];
}

/** The kubeadm config file (0600: later it carries the bootstrap token and certificate key). */
export function kubeadmConfig(plan: Plan, node: PlanNode): NodeFile {
  return { path: KUBEADM_CONFIG, mode: 0o600, content: toYamlStream(kubeadmDocuments(plan, node), { sortKeys: false }), secret: true };
}

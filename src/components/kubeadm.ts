/**
 * The kubeadm configuration file for a node, as typed objects serialised to a multi-document
 * YAML file. Field names follow kubeadm's v1beta3/v1beta4 types (which one per Kubernetes
 * minor: src/versions.ts)
 * (kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm, see test/fixtures/schemas/kubeadm).
 */
import type { NodeFile, Plan, PlanNode } from '../model.js';
import { toYamlStream } from '../formats/yaml.js';
import type { ClusterSecrets } from '../secrets/store.js';
import { kubernetesFacts } from '../versions.js';

/** Where the kubeadm config lands: not under /run or /tmp, which Ignition cannot write. */
export const KUBEADM_CONFIG = '/etc/k8s-ha/kubeadm.yaml';

/** APIEndpoint: where this node's apiserver listens. */
export interface APIEndpoint {
  advertiseAddress: string;
  bindPort: number;
}

/** One kubelet flag in v1beta4's list form (`{name, value}`; v1beta3 has a map). */
export interface Arg {
  name: string;
  value: string;
}

export interface NodeRegistrationOptions {
  name: string;
  /** Extra kubelet flags: v1beta3 `map[string]string`, v1beta4 `[]Arg` (test/fixtures/schemas/kubeadm/NOTES.md). */
  kubeletExtraArgs?: Record<string, string> | Arg[];
  /** Preflight errors to ignore (kubeadm's check names, e.g. DirAvailable--etc-kubernetes-manifests). */
  ignorePreflightErrors?: string[];
}

/** A bootstrap token created by kubeadm init (bootstraptoken/v1 BootstrapToken). */
export interface BootstrapToken {
  /** `[a-z0-9]{6}.[a-z0-9]{16}`. */
  token: string;
  description: string;
  /** Go duration from kubeadm init on. */
  ttl: string;
  usages: ('signing' | 'authentication')[];
  groups: string[];
}

/** Discovery through the VIP with a bootstrap token (JoinConfiguration.discovery.bootstrapToken). */
export interface BootstrapTokenDiscovery {
  apiServerEndpoint: string;
  token: string;
  /** `sha256:<hex>` pins of the cluster CA's public key. */
  caCertHashes?: string[];
  unsafeSkipCAVerification?: boolean;
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
  bootstrapTokens: BootstrapToken[];
  /** Encrypts the control-plane certificates uploaded by `--upload-certs` (64 hex digits). */
  certificateKey: string;
  localAPIEndpoint: APIEndpoint;
  nodeRegistration: NodeRegistrationOptions;
}

export interface JoinConfiguration {
  apiVersion: string;
  kind: 'JoinConfiguration';
  nodeRegistration: NodeRegistrationOptions;
  discovery: { bootstrapToken: BootstrapTokenDiscovery };
  controlPlane?: { localAPIEndpoint: APIEndpoint; certificateKey: string };
}

/**
 * Groups of the token kubeadm creates by default, which its RBAC rules let nodes join with
 * (`system:bootstrappers:kubeadm:default-node-token`, kubeadm constants.go).
 */
export const NODE_BOOTSTRAP_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

/**
 * kubelet `--node-ip` for a node, or undefined when kubelet may pick it (IPv4 single stack, as
 * before). kubeadm's dual-stack page sets it on every node with one address of each family
 * (`10.100.0.2,fd00:1:2:3::2`); for IPv6 single stack it names the node's IPv6 address, which
 * kubelet would otherwise not prefer over an IPv4 one.
 */
export function nodeIp(plan: Plan, node: PlanNode): string | undefined {
  if (node.secondaryAddress !== undefined) return `${node.address},${node.secondaryAddress}`;
  return plan.family === 6 ? node.address : undefined;
}

/** nodeRegistration for a node: its name and, for IPv6 or dual stack, kubelet's node-ip in the form of the config's apiVersion (src/versions.ts). */
export function nodeRegistrationFor(plan: Plan, node: PlanNode): NodeRegistrationOptions {
  const reg: NodeRegistrationOptions = { name: node.name };
  const ip = nodeIp(plan, node);
  if (ip !== undefined) reg.kubeletExtraArgs = kubernetesFacts(plan.kubernetes.version).kubeletExtraArgs === 'list' ? [{ name: 'node-ip', value: ip }] : { 'node-ip': ip };
  return reg;
}

/** ClusterConfiguration shared by every node: the VIP endpoint, certSANs, networking. */
export function clusterConfiguration(plan: Plan): ClusterConfiguration {
  const k = plan.kubernetes;
  const cfg: ClusterConfiguration = {
    apiVersion: kubernetesFacts(k.version).kubeadmApi,
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
 * The documents for one node: the init node gets InitConfiguration (the cluster's bootstrap
 * token, the certificate key for `--upload-certs`) + ClusterConfiguration; the other nodes a
 * JoinConfiguration that discovers the cluster through the VIP endpoint with that token and
 * pins the CA by `caCertHashes` (unless the profile set unsafeSkipCAVerification); control-plane
 * joiners add controlPlane (their localAPIEndpoint, the certificate key).
 */
export function kubeadmDocuments(plan: Plan, node: PlanNode, secrets: ClusterSecrets): (ClusterConfiguration | InitConfiguration | JoinConfiguration)[] {
  const k = plan.kubernetes;
  const facts = kubernetesFacts(k.version);
  const apiVersion = facts.kubeadmApi;
  const local: APIEndpoint = { advertiseAddress: node.address, bindPort: k.apiServerPort };
  const nodeRegistration = nodeRegistrationFor(plan, node);
  if (node.role === 'init') {
    const token: BootstrapToken = {
      token: secrets.bootstrapToken,
      description: `k8s-ha bootstrap token of cluster ${plan.name}`,
      ttl: k.tokenTTL,
      usages: ['signing', 'authentication'],
      groups: [NODE_BOOTSTRAP_TOKEN_GROUP],
    };
    const init: InitConfiguration = {
      apiVersion,
      kind: 'InitConfiguration',
      bootstrapTokens: [token],
      certificateKey: secrets.certificateKey,
      localAPIEndpoint: local,
      nodeRegistration,
    };
    return [init, clusterConfiguration(plan)];
  }
  const discovery: BootstrapTokenDiscovery = { apiServerEndpoint: k.controlPlaneEndpoint, token: secrets.bootstrapToken };
  if (k.unsafeSkipCAVerification) discovery.unsafeSkipCAVerification = true;
  else discovery.caCertHashes = [secrets.caCertHash];
  const join: JoinConfiguration = { apiVersion, kind: 'JoinConfiguration', nodeRegistration, discovery: { bootstrapToken: discovery } };
  if (node.role === 'control-plane') {
    join.controlPlane = { localAPIEndpoint: local, certificateKey: secrets.certificateKey };
    if (facts.joinSkipsManifestsPreflight) nodeRegistration.ignorePreflightErrors = ['DirAvailable--etc-kubernetes-manifests'];
  }
  // No ClusterConfiguration here: kubeadm join reads it from the cluster (kubeadm-config
  // ConfigMap uploaded by init) and ignores one in the file with a warning.
  return [join];
}

/** The kubeadm config file (0600: it carries the bootstrap token and certificate key). */
export function kubeadmConfig(plan: Plan, node: PlanNode, secrets: ClusterSecrets): NodeFile {
  return { path: KUBEADM_CONFIG, mode: 0o600, content: toYamlStream(kubeadmDocuments(plan, node, secrets), { sortKeys: false }), secret: true };
}

/** Where kubeadm looks for the cluster CA (certificatesDir /etc/kubernetes/pki). */
export const CA_CERT = '/etc/kubernetes/pki/ca.crt';
export const CA_KEY = '/etc/kubernetes/pki/ca.key';

/**
 * The pre-generated cluster CA for the init node: `kubeadm init` uses an existing
 * ca.crt/ca.key pair instead of making one, so the hash every joiner pins is known in advance.
 * The key is 0600 and secret; the certificate 0644 (kubeadm writes it so).
 */
export function caFiles(secrets: ClusterSecrets): NodeFile[] {
  return [
    { path: CA_CERT, mode: 0o644, content: secrets.ca.certPem },
    { path: CA_KEY, mode: 0o600, content: secrets.ca.keyPem, secret: true },
  ];
}

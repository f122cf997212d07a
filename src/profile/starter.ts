/**
 * The starter profile `k8s-ha init` prints (like `kubeadm config print init-defaults`): a
 * commented TOML profile that passes `k8s-ha check` as printed, optionally filled in from the
 * user's VIP, node addresses, interface and Kubernetes version.
 */

/** What the starter profile can be filled in with; every field optional. */
export interface StarterOptions {
  /** Cluster name (DNS-1123 label); default `my-cluster`. */
  name?: string;
  /** VIP addresses; default `192.0.2.10` (a placeholder, see {@link STARTER_DEFAULTS}). */
  vips?: string[];
  /** Control-plane nodes, each `address[/prefix]` or `name=address[/prefix]`; default three placeholders. */
  nodes?: string[];
  /** Workers, in the same form as `nodes`; default none (a commented example). */
  workers?: string[];
  /** NIC carrying VRRP and the VIP on every node; default `eth0`. */
  interface?: string;
  /** Kubernetes release, e.g. `v1.32.0`; default {@link STARTER_DEFAULTS}.version. */
  version?: string;
}

/**
 * The values used when no option is given. The addresses are from 192.0.2.0/24 (TEST-NET-1,
 * RFC 5737: documentation only, routed nowhere), so a profile nobody edited cannot reach a
 * real network.
 */
export const STARTER_DEFAULTS = {
  name: 'my-cluster',
  vips: ['192.0.2.10'],
  nodes: ['192.0.2.11/24', '192.0.2.12/24', '192.0.2.13/24'],
  interface: 'eth0',
  version: 'v1.32.0',
} as const;

/** A TOML basic string: JSON's escapes (\", \\, \n, \uXXXX) are TOML's too (TOML 1.0 "Basic strings"). */
const str = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => `[${xs.map(str).join(', ')}]`;
/** `key = value`, its comment at column 34 (or one space after a longer value). */
const kv = (key: string, value: string, comment: string): string => `${`${key} = ${value}`.padEnd(32)} # ${comment}`;

/** Splits `name=address` (else names it `prefix-N`, 1-based). */
function host(spec: string, i: number, prefix: string): { name: string; address: string } {
  const eq = spec.indexOf('=');
  return eq < 0 ? { name: `${prefix}-${i + 1}`, address: spec.trim() } : { name: spec.slice(0, eq).trim(), address: spec.slice(eq + 1).trim() };
}

/**
 * The starter profile as TOML text. Values are inserted as TOML strings, so none can add a
 * line; whether they are valid is the profile check's job (the `init` command runs it on the
 * text before printing it).
 */
export function starterProfile(opts: StarterOptions = {}): string {
  const placeholders = opts.vips === undefined && opts.nodes === undefined;
  const nodes = (opts.nodes ?? STARTER_DEFAULTS.nodes).map((s, i) => host(s, i, 'cp'));
  const workers = (opts.workers ?? []).map((s, i) => host(s, i, 'worker'));
  const out = [
    '# k8s-ha cluster profile, written by `k8s-ha init`.',
    '#   k8s-ha check this.toml    validate it and see the plan (failover times included)',
    '#   k8s-ha render this.toml   per-node cloud-init user-data and Ignition under out/',
    ...(placeholders ? ['# The addresses are placeholders from 192.0.2.0/24 (RFC 5737 documentation range): put yours.'] : []),
    '# Every key is described in README.md ("Profile reference"); `k8s-ha schema` prints a JSON Schema.',
    kv('name', str(opts.name ?? STARTER_DEFAULTS.name), 'DNS-1123 label; also seeds the default VRRP virtual_router_id'),
    '',
    '[vip]',
    kv('addresses', list(opts.vips ?? STARTER_DEFAULTS.vips), "free address(es) in the nodes' subnet, moved by keepalived (VRRP)"),
    'port = 8443                      # HAProxy listens here on every control-plane node; never the apiserver\'s 6443',
    kv('interface', str(opts.interface ?? STARTER_DEFAULTS.interface), 'the NIC that carries the VIP (nodes[].interface overrides it)'),
    '# routerId = 17                  # virtual_router_id, unique on the L2 segment (default: derived from name)',
    '',
    '[keepalived]',
    'advertInterval = 1               # seconds between VRRP adverts; below 1 s switches to VRRP version 3',
    '# authPass = "changeme"          # VRRP PASS authentication (plain text on the wire; VRRPv2 only)',
    '',
    '[kubernetes]',
    kv('version', str(opts.version ?? STARTER_DEFAULTS.version), 'the Kubernetes release, with its patch number'),
    'podSubnet = "10.244.0.0/16"      # must match your CNI add-on',
    'serviceSubnet = "10.96.0.0/12"',
    '# Shell lines run on the node before the prerequisite check (kubeadm, kubelet, a CRI socket),',
    '# so this is where to install them; a table limits a line to roles (init, control-plane, worker).',
    '# preKubeadmCommands = ["apt-get install -y kubeadm kubelet kubectl containerd"]',
    '# postKubeadmCommands = [{ run = "kubectl get nodes", roles = ["init"] }]   # KUBECONFIG=/etc/kubernetes/admin.conf there',
    '',
    '# Manifests applied once from the init node after kubeadm init, e.g. a CNI:',
    '# [[addons]]',
    '# name = "cni"',
    '# url = "https://example.com/cni.yaml"      # or file = "cni.yaml" (relative to this profile)',
    '',
    '# Control-plane nodes: the first runs kubeadm init and starts as VRRP MASTER. Use an odd',
    '# number (etcd quorum). Give each address its prefix length so the subnet checks can run.',
    ...nodes.flatMap((n) => ['[[nodes]]', `name = ${str(n.name)}`, `address = ${str(n.address)}`, '']),
    ...(workers.length > 0
      ? workers.flatMap((w) => ['[[workers]]', `name = ${str(w.name)}`, `address = ${str(w.address)}`, ''])
      : ['# Workers join through the VIP:', '# [[workers]]', '# name = "worker-1"', '# address = "192.0.2.21/24"', '']),
  ];
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

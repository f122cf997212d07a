/**
 * The data that flows through k8s-ha: profile -> plan -> node files -> format -> sink.
 *
 * Everything here is plain, typed data. A {@link Plan} is the validated profile with every
 * default applied and every per-node fact resolved (VRRP state and priority, peers, role);
 * components turn a plan and one of its nodes into {@link NodeFile}s; formats (cloud-init,
 * Ignition) serialise a node's file list; sinks write the results.
 */

/** An address family: 4 or 6. */
export type Family = 4 | 6;

/** VRRP state keepalived starts in (keepalived only knows these two, upper case). */
export type VrrpState = 'MASTER' | 'BACKUP';

/**
 * Role of a node in the cluster.
 * - `init`: the first control-plane node; runs `kubeadm init`, starts as VRRP MASTER.
 * - `control-plane`: the other control-plane nodes; `kubeadm join --control-plane`, VRRP BACKUP.
 * - `worker`: no keepalived or HAProxy; `kubeadm join` through the VIP.
 */
export type NodeRole = 'init' | 'control-plane' | 'worker';

/**
 * One file to put on a node.
 * - `path`: absolute POSIX path on the node, e.g. `/etc/haproxy/haproxy.cfg`.
 * - `mode`: permission bits as a number (write it as octal in code: `0o644`).
 * - `content`: UTF-8 text, byte-for-byte what must land on disk.
 * - `secret`: true when the content carries a credential (auth password, token, key); any
 *   output that embeds such a file must itself be written 0600.
 */
export interface NodeFile {
  path: string;
  mode: number;
  content: string;
  secret?: boolean;
}

/** A systemd unit to install and (optionally) enable on a node (Ignition `systemd.units[]`). */
export interface NodeUnit {
  name: string;
  enabled: boolean;
  contents: string;
}

/**
 * A file Ignition downloads while provisioning and verifies before writing (Flatcar sysext
 * images). cloud-init has no verified download: only the Ignition output carries these.
 */
export interface RemoteFile {
  path: string;
  mode: number;
  /** http(s) URL fetched by Ignition. */
  url: string;
  /** Lower-case hex SHA-512 of the file (Ignition `verification.hash` = `sha512-<hex>`). */
  sha512: string;
}

/**
 * Everything one node receives, independent of the output format:
 * the files to write and the commands to run once at first boot (in order; each is an argv
 * vector, executed without a shell) plus, for Ignition, the systemd units that run them.
 */
export interface NodePayload {
  files: NodeFile[];
  /** argv vectors run once at first boot after the files exist (cloud-init `runcmd`). */
  runcmd: readonly (readonly string[])[];
  /** systemd units (Ignition runs first-boot work through a oneshot unit). */
  units: readonly NodeUnit[];
  /** Files Ignition downloads and verifies (absent or empty: none). */
  downloads?: readonly RemoteFile[];
  /**
   * `[install]` (cloud-init only): files written with the others and argv vectors run from
   * runcmd before `runcmd` (the prerequisites, then the bootstrap). Absent: no install.
   */
  install?: { files: readonly NodeFile[]; runcmd: readonly (readonly string[])[] };
}

/** keepalived `vrrp_script` timing for the health check of the local HAProxy frontend. */
export interface TrackScriptPlan {
  /** Seconds between two runs of check_apiserver.sh (keepalived `interval`). */
  interval: number;
  /** Seconds before a run counts as failed (keepalived `timeout`). */
  timeout: number;
  /** Consecutive failures before the weight is applied (keepalived `fall`). */
  fall: number;
  /** Consecutive successes before it is removed again (keepalived `rise`). */
  rise: number;
  /**
   * Priority change while failing, negative; |weight| is larger than the spread of priorities
   * so a failing MASTER drops below every healthy BACKUP (keepalived range -253..253).
   */
  weight: number;
}

/** A node of the cluster with every per-node fact resolved. */
export interface PlanNode {
  /** DNS-1123 label, unique in the cluster; also the kubeadm node name and hostname. */
  name: string;
  /** Index in the profile's node list (control-plane nodes first, then workers). */
  index: number;
  role: NodeRole;
  /** The node's own address (no prefix), canonical text form, e.g. `172.16.217.171`. */
  address: string;
  /** Prefix length of the node's subnet when the profile gave one (`addr/prefix`). */
  prefix?: number;
  /** Dual stack: the node's address of the plan's secondary family (canonical, no prefix). */
  secondaryAddress?: string;
  /** Prefix length of the secondary address's subnet, when given. */
  secondaryPrefix?: number;
  /** NIC that carries VRRP and the VIPs on this node (node.interface or vip.interface). */
  interface: string;
  /** MAC address, lower case `aa:bb:cc:dd:ee:ff`, when the profile gave one. */
  mac?: string;
  /** Default gateway for static network settings (NoCloud network-config, `ip=`), same family. */
  gateway?: string;
  /** DNS resolvers for static network settings, in order of preference. */
  dns?: string[];
  /**
   * SSH login: the user (absent: the image's default user for cloud-init, `core` for
   * Ignition) and the public keys allowed to log in as it, the cluster's then the node's own,
   * without repeats. Absent when the profile names no key. Never a password.
   */
  ssh?: { user?: string; authorizedKeys: string[] };
  /** The user's own cloud-config and Ignition merged into this node's outputs (src/profile/user-content.ts). */
  userContent?: { cloudConfig: UserPart[]; ignition: UserPart[] };
  /** Per-node override of `[boot]` `mode` and `installDisk` (profile `nodes[i].boot`). */
  boot?: NodeBootSettings;
  /** VRRP data; absent for workers, which run no keepalived. */
  vrrp?: {
    state: VrrpState;
    /** keepalived priority 1..254, distinct across the control-plane nodes. */
    priority: number;
    /** unicast_peer: the OTHER control-plane nodes' addresses, in profile order. */
    peers: string[];
  };
}

/**
 * One file of the user's own content, read and validated when the profile was loaded:
 * cluster-wide parts come before a node's own.
 */
export interface UserPart {
  /** The file as the profile names it (messages, the MIME part's filename). */
  file: string;
  /** The profile key that names it, e.g. `['userContent', 'cloudConfig']` or `['nodes', 1, 'userContent', 'ignition']`. */
  field: (string | number)[];
  /** The content: `#cloud-config` text as written, or Ignition JSON (Butane already converted). */
  text: string;
  /** Ignition only: the config's `ignition.version`, e.g. `3.3.0`. */
  version?: string;
}

/** A profile hook: one shell line (`sh -c`) and the roles whose nodes run it (all three unless limited). */
export interface Hook {
  run: string;
  roles: NodeRole[];
}

/**
 * A manifest the init node applies once with `kubectl apply -f` after `kubeadm init` (e.g. a
 * CNI): from an http(s) URL (fetched by kubectl on the node), or a local file whose content
 * the init node's outputs carry (it counts against the user-data budget).
 */
export type PlanAddon = { name: string; url: string } | { name: string; file: string; content: string };

/** Operating systems the network-boot bundle can boot (`boot.os`). */
export const BOOT_OSES = ['flatcar', 'fcos', 'ubuntu'] as const;
export type BootOs = (typeof BOOT_OSES)[number];

/**
 * How a network-booted node runs (`boot.mode`): `install` writes the OS to `installDisk` and
 * the node then boots from disk (its etcd data and kubelet state survive a power cut); `live`
 * runs the OS from RAM on every boot (tmpfs root: nothing survives a reboot).
 */
export const BOOT_MODES = ['install', 'live'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** Default `boot.mode`: install to disk, for control-plane nodes and workers alike. */
export const DEFAULT_BOOT_MODE: BootMode = 'install';

/**
 * Default `boot.installDisk`: the first SATA/SAS/USB disk, as Typhoon's bare-metal module
 * defaults its `install_disk` (poseidon/typhoon, bare-metal variables.tf).
 */
export const DEFAULT_INSTALL_DISK = '/dev/sda';

/** Per-node boot overrides (`[nodes.boot]`, `[workers.boot]`): both optional. */
export interface NodeBootSettings {
  mode?: BootMode;
  /** Block device the installer wipes and writes the OS to, e.g. `/dev/nvme0n1`. */
  installDisk?: string;
}

/** The profile's `[boot]` section: how `k8s-ha bundle` network-boots the nodes. */
export interface BootSettings {
  /** Cluster-wide boot mode (default {@link DEFAULT_BOOT_MODE}); nodes may override it. */
  mode?: BootMode;
  /** Cluster-wide install disk (default {@link DEFAULT_INSTALL_DISK}); nodes may override it. */
  installDisk?: string;
  os: BootOs;
  /** Base URL serving the kernel, initrd(s) and rootfs under the per-OS names of src/bundle/boot.ts. */
  assetsUrl: string;
  /** Base URL where the unpacked bundle itself is served (`<configUrl>/nodes/...`, `<configUrl>/ipxe/...`). */
  configUrl: string;
  /** Extra kernel arguments appended after the generated ones, one token each. */
  kernelArgs: string[];
  /** Base URL of a Matchbox server using the bundle's `matchbox/` (its `/ignition` endpoint). Default: configUrl. */
  matchboxUrl?: string;
}

/** A fully resolved cluster: the validated profile with all defaults applied. */
export interface Plan {
  /** Absolute path of the profile file the plan came from (for messages only). */
  source: string;
  /** Cluster name (DNS-1123 label). */
  name: string;
  /** Primary family: every node's `address` (kubeadm advertiseAddress, first kubelet node-ip). */
  family: Family;
  /** Dual stack: the other family, of every node's `secondaryAddress`; absent for single stack. */
  secondaryFamily?: Family;
  vip: {
    /** VIPs in canonical text form, profile order. */
    addresses: string[];
    /** HAProxy frontend port = controlPlaneEndpoint port. */
    port: number;
    /** Default NIC for VRRP. */
    interface: string;
    /** VRRP virtual_router_id 1..255 of the instance of the first VIP family (primary first), unique per L2 segment. */
    routerId: number;
    /** VIPs of both families: virtual_router_id of the second family's instance (keepalived: one family per instance). */
    secondaryRouterId?: number;
  };
  keepalived: {
    /** VRRP PASS password (<= 8 chars); absent with VRRPv3, which has no authentication. */
    authPass?: string;
    /** VRRP advert_int in seconds (0.01..40.95 with v3; whole seconds 1..255 with v2). */
    advertInterval: number;
    /** 2 or 3; 3 for IPv6 or sub-second advert_int. */
    vrrpVersion: 2 | 3;
    /**
     * The VRRP preflight (components/vrrp-preflight.ts) the bootstrap runs before kubeadm:
     * `enforce` (default) stops the bootstrap on a foreign advert with our router id; `off`
     * writes no preflight (a segment that shares the router id on purpose).
     */
    vrrpPreflight: 'enforce' | 'off';
    image: string;
    track: TrackScriptPlan;
    /**
     * Track the node's HAProxy process too (keepalived `vrrp_track_process`, kernel process
     * events): a dead HAProxy lowers the priority at once instead of after `track.fall` checks.
     * Puts `hostPID: true` on the keepalived pod (components/static-pods.ts). Default false.
     */
    trackProcess: boolean;
    /**
     * The VIP watch sidecar of the keepalived pod (components/vip-watch.ts): `on` (default) logs a
     * second MAC answering ARP for a VIP this node holds (a peer's: VRRP between them is blocked;
     * another: a duplicate VIP); `off` leaves the sidecar out.
     */
    vipWatch: 'on' | 'off';
    /** Image of the VIP watch sidecar: needs /bin/sh, arping (busybox or iputils), ip, sed, tr. */
    vipWatchImage: string;
  };
  haproxy: {
    image: string;
    /** Health-check interval of each backend server, milliseconds (`inter`). */
    checkIntervalMs: number;
    /** Timeout for TCP connect to an apiserver, milliseconds (`timeout connect`). */
    connectTimeoutMs: number;
    /** Idle timeout client/server side, seconds (>= 35 s so `kubectl logs -f` survives). */
    idleTimeoutS: number;
  };
  kubernetes: {
    /** Kubernetes version with leading v, e.g. `v1.31.2`. */
    version: string;
    apiServerPort: number;
    /** kubeadm networking.podSubnet: one CIDR or a dual-stack pair `a,b` (absent: none, the CNI decides). */
    podSubnet?: string;
    /**
     * kubeadm networking.serviceSubnet, one CIDR or a pair `a,b` (primary family first): set when
     * the profile gave one or the nodes' family needs another than kubeadm's default 10.96.0.0/12.
     */
    serviceSubnet?: string;
    /** Host part of controlPlaneEndpoint: the DNS name if given, else the first VIP. */
    endpointHost: string;
    /** controlPlaneEndpoint as kubeadm wants it: `host:port` (IPv6 bracketed). */
    controlPlaneEndpoint: string;
    /** apiServer.certSANs: every VIP, the DNS name if given, every control-plane address. */
    certSANs: string[];
    /** Bootstrap token TTL, Go duration (`24h`, kubeadm's default; `0` never expires). */
    tokenTTL: string;
    /**
     * Shell lines run in order first thing on the nodes of their roles, before the prerequisite
     * check, so they can install kubeadm, kubelet and a CRI (Cluster API's preKubeadmCommands).
     */
    preKubeadmCommands: Hook[];
    /**
     * Shell lines run in order after a successful kubeadm init/join on the nodes of their roles;
     * on control-plane nodes with KUBECONFIG=/etc/kubernetes/admin.conf.
     */
    postKubeadmCommands: Hook[];
    /** Join without pinning the cluster CA (kubeadm discovery); false unless the profile asks. */
    unsafeSkipCAVerification: boolean;
    /**
     * `embed`: the init node's outputs carry the CA private key; `deliver` (absent = embed): they
     * do not, its bootstrap waits for the user to place /etc/kubernetes/pki/ca.key.
     */
    caKey?: 'embed' | 'deliver';
    /** Flatcar: systemd-sysext image with kubeadm/kubelet that Ignition downloads and enables. */
    sysext?: { url: string; sha512: string };
  };
  /** Control-plane nodes first (profile order), then workers. */
  nodes: PlanNode[];
  /** Network-boot settings, when the profile has a `[boot]` section. */
  boot?: BootSettings;
  /** `[install]`: cloud-init installs the prerequisites first (src/components/install.ts). */
  install?: boolean;
  /** Add-ons applied from the init node, in profile order, when the profile has `[[addons]]`. */
  addons?: PlanAddon[];
}

/** A warning about a valid but risky profile (printed by `check` and `render`). */
export interface PlanWarning {
  code: string;
  /** Field path, e.g. `vip.routerId`. */
  path: string;
  message: string;
}

/**
 * The lab's failure scenarios (src/lab/scenarios.ts), in the order they run. Listed here, with
 * no imports, so the `lab` command's options do not load the lab (child processes, sockets)
 * on every start of the CLI.
 */
export const LAB_SCENARIOS = ['converge', 'master-crash', 'rejoin', 'master-stop', 'haproxy-dies', 'apiserver-dies', 'partition', 'freeze', 'bootstrap-order', 'busy', 'foreign-router', 'vrrp-blocked', 'heal-garp'] as const;
export type LabScenarioName = (typeof LAB_SCENARIOS)[number];
/**
 * Lab scenarios that take the cluster from one profile to another (`k8s-ha lab --rollout-to B`,
 * issue #15): not in {@link LAB_SCENARIOS}, so `k8s-ha lab` without `--scenario` never runs them.
 */
export const LAB_ROLLOUT_SCENARIOS = ['rollout', 'rollout-holder-first'] as const;
export type LabRolloutScenarioName = (typeof LAB_ROLLOUT_SCENARIOS)[number];

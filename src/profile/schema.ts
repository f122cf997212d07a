/**
 * The profile's structure as a zod/mini schema: key names, types, ranges and per-value rules.
 * Cross-field rules (duplicates, families, subnets, port clashes) live in resolve.ts.
 *
 * zod/mini rather than zod: the same validator at a fraction of the start-up cost (~0 ms vs
 * ~20 ms measured here), which matters for a CLI run on every render.
 */
import * as z from 'zod/mini';
import {
  AUTH_PASS,
  BOOT_URL_RULE,
  DNS1123_LABEL,
  KERNEL_ARG_RULE,
  bootUrlProblem,
  GO_DURATION,
  MAC,
  ipFamily,
  isCidrList,
  isDns1123Subdomain,
  isHttpUrl,
  isImageRef,
  isInterfaceName,
  isKernelArg,
  isInstallDisk,
  INSTALL_DISK_RULE,
  K8S_VERSION,
  isShellLine,
  parseAddressWithPrefix,
} from './values.js';
import { BOOT_MODES, BOOT_OSES } from '../model.js';
import { isSupportedKubernetes, OLDEST_KUBERNETES } from '../versions.js';
import { isLoginName, isSshPublicKey, SSH_KEY_RULE } from './ssh.js';

const str = (test: (s: string) => boolean, message: string) =>
  z.string().check(z.refine(test, { error: message, abort: true }));

/** Human description of each bounded number schema, e.g. "an integer from 1 to 255", for messages. */
export const RANGES = new WeakMap<object, string>();
const int = (min: number, max: number) => {
  const s = z.int().check(z.gte(min), z.lte(max));
  RANGES.set(s, `an integer from ${min} to ${max}`);
  return s;
};
const num = (min: number, max: number) => {
  const s = z.number().check(z.gte(min), z.lte(max));
  RANGES.set(s, `a number from ${min} to ${max}`);
  return s;
};

const label = str((s) => DNS1123_LABEL.test(s), 'expected a DNS-1123 label (a-z, 0-9 and "-", at most 63, alphanumeric at both ends)');
const ip = str((s) => ipFamily(s) !== undefined, 'expected an IPv4 or IPv6 address');
const nodeAddress = str(
  (s) => parseAddressWithPrefix(s) !== undefined,
  'expected an IPv4 or IPv6 address, optionally with a prefix length (172.16.217.171 or 172.16.217.171/16)',
);
const ifname = str(isInterfaceName, 'expected a Linux interface name (1-15 of A-Z a-z 0-9 _ . @ -)');
const image = str(isImageRef, 'expected a container image reference such as haproxy:2.8 (at most 255 characters)');
const port = int(1, 65535);
const shellLine = str(isShellLine, 'expected one line of shell (no line breaks or control characters)');
const mac = str((s) => MAC.test(s), 'expected a MAC address such as 52:54:00:12:34:56');
const bootMode = z.enum(BOOT_MODES);
const installDisk = str(isInstallDisk, `expected ${INSTALL_DISK_RULE}`);

/** A node's own `boot` table: overrides `[boot]` `mode` and `installDisk` for this node. */
export const nodeBootSchema = z.strictObject({
  mode: z.optional(bootMode),
  installDisk: z.optional(installDisk),
});

const sshKey = str(isSshPublicKey, `expected ${SSH_KEY_RULE}`);
const userFile = z.string().check(z.minLength(1));

/** `[ssh]`: the login user and the public keys that may log in as it (never a password). */
export const sshSchema = z.strictObject({
  /** Default: the image's default user (cloud-init), `core` (Ignition). */
  user: z.optional(str(isLoginName, 'expected a login name: a-z or _ first, then a-z 0-9 _ -, at most 32 characters, not root')),
  authorizedKeys: z.optional(z.array(sshKey)),
});

/** `[userContent]`: the user's own cloud-config and Ignition files, merged with k8s-ha's. */
export const userContentSchema = z.strictObject({
  /** A `#cloud-config` file, relative to the profile. */
  cloudConfig: z.optional(userFile),
  /** An Ignition JSON file (or Butane YAML, *.bu, converted with `butane`), relative to the profile. */
  ignition: z.optional(userFile),
});

/** A node's own additions to `[ssh]` (keys only: the login user is cluster-wide). */
const nodeSshSchema = z.strictObject({ authorizedKeys: z.array(sshKey) });

/** Node roles a hook can be limited to (model.ts NodeRole). */
export const HOOK_ROLES = ['init', 'control-plane', 'worker'] as const;

/**
 * A pre/postKubeadmCommands entry: a shell line run on every node, or `{ run, roles }` run only
 * on nodes of those roles (e.g. a post hook on `init`, which has admin.conf).
 */
const hook = z.union([
  shellLine,
  z.strictObject({
    run: shellLine,
    roles: z.array(z.enum(HOOK_ROLES)).check(z.minLength(1)),
  }),
]);

/**
 * One `[[addons]]` entry: a manifest applied once with `kubectl apply` from the init node after
 * `kubeadm init`, from an http(s) `url` or a local `file` (relative to the profile; its content
 * goes into the init node's user-data). Exactly one of the two (load.ts checks it).
 */
export const addonSchema = z.strictObject({
  name: label,
  url: z.optional(str(isHttpUrl, 'expected an http(s) URL of a manifest, such as https://example.com/cni.yaml')),
  file: z.optional(z.string().check(z.minLength(1))),
});

/** One `[[workers]]` entry: a worker node, joined through the VIP; no keepalived or HAProxy. */
export const workerSchema = z.strictObject({
  name: label,
  address: nodeAddress,
  /**
   * Dual stack: the node's address of the other family (optionally with its prefix); kubelet's
   * node-ip lists both, `address` first (kubeadm's dual-stack page).
   */
  secondaryAddress: z.optional(nodeAddress),
  /** NIC named in the bundle's static network settings (default vip.interface, else the first node's). */
  interface: z.optional(ifname),
  mac: z.optional(mac),
  gateway: z.optional(ip),
  dns: z.optional(z.array(ip).check(z.minLength(1))),
  ssh: z.optional(nodeSshSchema),
  userContent: z.optional(userContentSchema),
  boot: z.optional(nodeBootSchema),
});

/** One `[[nodes]]` entry: a control-plane node, a worker's fields plus its VRRP priority. */
export const nodeSchema = z.extend(workerSchema, { priority: z.optional(int(1, 254)) });

const bootUrl = str((s) => bootUrlProblem(s) === undefined, `expected ${BOOT_URL_RULE}`);

/** `[boot]`: network-boot settings for `k8s-ha bundle`; values go into boot scripts unquoted. */
export const bootSchema = z.strictObject({
  os: z.enum(BOOT_OSES),
  assetsUrl: bootUrl,
  configUrl: bootUrl,
  kernelArgs: z.optional(z.array(str(isKernelArg, `expected ${KERNEL_ARG_RULE}`))),
  matchboxUrl: z.optional(bootUrl),
  mode: z.optional(bootMode),
  installDisk: z.optional(installDisk),
});

/**
 * `[install]`: opt-in installation of the node prerequisites (kernel modules, sysctls, swap off,
 * containerd, kubeadm/kubelet/kubectl) by cloud-init on Debian and Ubuntu images.
 */
export const installSchema = z.strictObject({
  enabled: z.boolean(),
});

/** The whole profile, as written in TOML or YAML (before defaults). */
export const profileSchema = z.strictObject({
  $schema: z.optional(z.string()),
  name: label,
  vip: z.strictObject({
    addresses: z.array(ip).check(z.minLength(1)),
    port: z.optional(port),
    interface: z.optional(ifname),
    routerId: z.optional(int(1, 255)),
    /** Dual-stack VIPs: virtual_router_id of the VRRP instance of the nodes' secondary family. */
    secondaryRouterId: z.optional(int(1, 255)),
  }),
  keepalived: z.optional(
    z.strictObject({
      authPass: z.optional(str((s) => AUTH_PASS.test(s), 'expected 1-8 characters of A-Z a-z 0-9 _ . , : ; @ % + = * ^ ~ / -')),
      authPassFile: z.optional(z.string().check(z.minLength(1))),
      advertInterval: z.optional(num(0.01, 255)),
      /** The VRRP preflight before keepalived's first start (issue #20): "enforce" (default) or "off". */
      vrrpPreflight: z.optional(z.enum(['enforce', 'off'])),
      /** The VIP watch sidecar (issue #20): "on" (default) or "off". */
      vipWatch: z.optional(z.enum(['on', 'off'])),
      vipWatchImage: z.optional(image),
      image: z.optional(image),
      trackProcess: z.optional(z.boolean()),
      check: z.optional(
        z.strictObject({
          interval: z.optional(int(1, 60)),
          timeout: z.optional(int(1, 60)),
          fall: z.optional(int(1, 20)),
          rise: z.optional(int(1, 20)),
        }),
      ),
    }),
  ),
  haproxy: z.optional(
    z.strictObject({
      image: z.optional(image),
      checkInterval: z.optional(int(100, 60000)),
      connectTimeout: z.optional(int(50, 60000)),
      idleTimeout: z.optional(int(35, 86400)),
    }),
  ),
  kubernetes: z.strictObject({
    // The oldest release src/versions.ts has a kubeadm config API for.
    version: z.string().check(
      z.refine((s) => K8S_VERSION.test(s), { error: 'expected a full Kubernetes release with its patch number, such as v1.31.2 (not just 1.31)', abort: true }),
      z.refine(isSupportedKubernetes, { error: `expected a Kubernetes version ${OLDEST_KUBERNETES} or newer, such as v1.31.2`, abort: true }),
    ),
    apiServerPort: z.optional(port),
    podSubnet: z.optional(str(isCidrList, 'expected a CIDR such as 10.244.0.0/16, or a dual-stack pair such as 10.244.0.0/16,fd00:10:244::/56')),
    serviceSubnet: z.optional(str(isCidrList, 'expected a CIDR such as 10.96.0.0/12, or a dual-stack pair such as 10.96.0.0/16,fd00:10:96::/112')),
    controlPlaneEndpoint: z.optional(
      str((s) => isDns1123Subdomain(s) && ipFamily(s) === undefined, 'expected a DNS name (no port, no scheme), e.g. k8s-api.example.com'),
    ),
    tokenTTL: z.optional(str((s) => GO_DURATION.test(s), 'expected a Go duration such as 24h, 2h30m or 0 (never expires)')),
    preKubeadmCommands: z.optional(z.array(hook)),
    postKubeadmCommands: z.optional(z.array(hook)),
    unsafeSkipCAVerification: z.optional(z.boolean()),
    caKey: z.optional(z.enum(['embed', 'deliver'])),
    sysext: z.optional(
      z.strictObject({
        url: str(isHttpUrl, 'expected an http(s) URL of a systemd-sysext image'),
        sha512: str((s) => /^[0-9a-f]{128}$/.test(s), 'expected the SHA-512 of the image as 128 lower-case hex digits (sha512sum)'),
      }),
    ),
  }),
  nodes: z.array(nodeSchema).check(z.minLength(1)),
  workers: z.optional(z.array(workerSchema)),
  addons: z.optional(z.array(addonSchema)),
  boot: z.optional(bootSchema),
  ssh: z.optional(sshSchema),
  userContent: z.optional(userContentSchema),
  install: z.optional(installSchema),
});

/** A profile as written (validated structure, no defaults applied). */
export type RawProfile = z.infer<typeof profileSchema>;

/** Hints for fields whose rule is not obvious from the message, keyed by the last path key. */
export const FIELD_HINTS: Record<string, string> = {
  authPass: 'keepalived keeps only 8 characters of auth_pass (VRRP_AUTH_LEN in vrrp.h); set K8S_HA_AUTH_PASS to keep it out of the file',
  authPassFile: 'a file holding only the VRRP password (relative to the profile), so the profile can be shared without it',
  routerId: 'virtual_router_id must be unique per L2 segment; pick 1-255',
  secondaryRouterId: 'virtual_router_id of the second VRRP instance (dual-stack VIPs: one instance per family); unique per L2 segment, 1-255',
  secondaryAddress: 'dual stack: the node\'s address of the other family (e.g. fd00:10::11/64 next to 198.18.0.11/24); kubelet node-ip gets both',
  podSubnet: 'kubeadm networking.podSubnet: one CIDR, or one per family separated by a comma (no spaces), the nodes\' primary family first',
  serviceSubnet: 'kubeadm networking.serviceSubnet: one CIDR, or one per family separated by a comma (no spaces), the nodes\' primary family first',
  interface: 'Linux refuses names longer than 15 characters or with "/", ":" or white space',
  name: 'use lower-case letters, digits and "-" (it becomes a hostname and a Kubernetes node name; kubeadm validation.go ValidateNodeRegistrationOptions wants a lower-case DNS-1123 name)',
  advertInterval: 'seconds between VRRP adverts; below 1 s (or fractional) switches to VRRP version 3',
  trackProcess: 'true or false: keepalived also watches the HAProxy process (a dead HAProxy moves the VIP at once; the keepalived pod gets hostPID)',
  vrrpPreflight: '"enforce" (default): before keepalived first starts, the bootstrap listens for VRRP adverts with our router id from other sources and stops on one; "off" for a segment that shares the router id on purpose',
  vipWatch: '"on" (default): a sidecar of the keepalived pod logs a second MAC answering ARP for a VIP this node holds (VRRP blocked between two nodes, or a duplicate VIP); "off" leaves it out',
  vipWatchImage: 'an image with /bin/sh, arping, ip, sed and tr, e.g. busybox:1.36.1 or a mirror of it',
  port: 'the HAProxy frontend port that clients use (controlPlaneEndpoint port), e.g. 7443 or 8443',
  apiServerPort: "the apiservers' own secure port (6443 unless changed)",
  image: 'a container image reference such as haproxy:2.8 or registry.example.com/keepalived:2.2.8',
  priority: 'keepalived priority 1-254, distinct per node, highest on the first node (the MASTER)',
  addresses: 'one or more free addresses in the nodes\' subnet, all of one family',
  address: 'the node\'s own IP address, optionally with its prefix length (198.18.0.11/24)',
  version: 'the Kubernetes release, e.g. v1.31.2 (selects the kubeadm config API version)',
  tokenTTL: 'how long after kubeadm init the bootstrap token lets nodes join (kubeadm default 24h); render --rotate makes a new token',
  unsafeSkipCAVerification: 'true lets joiners trust any control plane answering on the VIP; leave it false, k8s-ha pins the CA it generates',
  sha512: 'Ignition verifies the download with it (verification.hash "sha512-<hex>")',
  assetsUrl: 'where the bundle\'s kernel and initrd images are served; it goes unquoted into iPXE and pxelinux scripts',
  configUrl: 'where the bundle\'s nodes/ directory is served (Ignition configs, NoCloud seeds); it goes unquoted into kernel command lines',
  matchboxUrl: 'the Matchbox server\'s base URL (default configUrl); it goes unquoted into kernel command lines',
  authorizedKeys: 'paste the whole line of your id_ed25519.pub (or id_rsa.pub); keys only, k8s-ha never sets a password',
  user: 'leave it out to log in as the image\'s default user (cloud-init) or core (Ignition)',
  cloudConfig: 'a #cloud-config file relative to the profile; it is merged with k8s-ha\'s by cloud-init (MIME multipart)',
  ignition: 'an Ignition JSON (or Butane *.bu) file relative to the profile; merged with ignition.config.merge',
  enabled: 'true installs containerd, kubeadm, kubelet and kubectl with cloud-init on Debian/Ubuntu; leave it out for images that carry them',
  caKey: '"embed" (default) puts the CA private key in the init node\'s outputs; "deliver" leaves it out: render writes ca.key beside them for you to copy to /etc/kubernetes/pki/ca.key on the init node',
  run: 'one line of shell, run with sh -c; pre hooks run before the prerequisite check, post hooks after kubeadm',
  roles: 'the roles the hook runs on: init, control-plane, worker',
  file: 'a manifest file relative to the profile; it is embedded in the init node\'s user-data',
  kernelArgs: 'extra kernel arguments, one per list item, appended to every node\'s boot line',
  mode: 'install (default): write the OS to installDisk and boot from disk; live: run from RAM on every boot (etcd data is lost at power-off)',
  installDisk: 'the disk the installer WIPES and writes the OS to (default /dev/sda), e.g. /dev/nvme0n1 or /dev/disk/by-id/...',
};

/** Hints by problem kind, used when the field has none of its own. */
export const KIND_HINTS = {
  type: 'check the value\'s type: numbers without quotes, strings in quotes, lists in [ ]',
  required: 'see the profile reference in README.md for the required keys',
  range: 'see the profile reference in README.md for the allowed range',
  format: 'see the profile reference in README.md for the expected format',
} as const;

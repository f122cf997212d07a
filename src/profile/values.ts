/**
 * Value rules shared by the profile schema and the config models: each returns whether a
 * string is safe AND meaningful in the place it will be inserted. Every rule is a whitelist,
 * so no accepted value can carry a newline, quote, brace, `#`/`!` (comment starters in
 * haproxy.cfg and keepalived.conf), `$` or backtick into a generated file.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/** DNS-1123 label: lower-case alphanumerics and '-', 1-63 chars, alphanumeric at both ends (k8s.io/apimachinery validation). */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** DNS-1123 subdomain: dot-separated labels, at most 253 chars (k8s.io/apimachinery validation). */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => DNS1123_LABEL.test(l));
}

/**
 * A Linux network interface name: 1-15 bytes (IFNAMSIZ 16 incl. NUL), not `.` or `..`, no
 * '/', ':' or white space (net/core/dev.c dev_valid_name), not `all` or `default`; we further keep to
 * `[A-Za-z0-9_.@-]` so the name is a single safe token in keepalived.conf.
 */
export function isInterfaceName(s: string): boolean {
  // The kernel also refuses `all` and `default` (EINVAL: they name /proc/sys/net/*/conf/ entries).
  return /^[A-Za-z0-9_.@-]{1,15}$/.test(s) && !['.', '..', 'all', 'default'].includes(s);
}

/**
 * An OCI image reference `[registry[:port]/]path[:tag][@sha256:digest]`, following the
 * grammar of distribution/reference (lower-case path components, tag `[\w][\w.-]{0,127}`).
 */
export const IMAGE_REF =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * An image reference of at most 255 characters (distribution/reference NameTotalLengthMax)
 * matching {@link IMAGE_REF}: what the schema accepts and the bootstrap script's guard checks.
 */
export function isImageRef(s: string): boolean {
  return s.length <= 255 && IMAGE_REF.test(s);
}

/**
 * keepalived `auth_pass`: 1-8 characters (VRRP_AUTH_LEN 8 in keepalived's vrrp.h: longer ones
 * are cut, and `keepalived -t` fails), limited to characters that stay one token in
 * keepalived.conf (no white space, quotes, braces, `#`, `!`, `\`).
 */
export const AUTH_PASS = /^[A-Za-z0-9_.,:;@%+=*^~/-]{1,8}$/;

/** Kubernetes release `v1.31.2` or `1.31.2` (optional pre-release such as `-rc.1`). */
export const K8S_VERSION = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;

/** Go duration string as kubeadm reads `ttl` (time.ParseDuration): `24h`, `2h30m`, `90m`; `0` = never expires. */
export const GO_DURATION = /^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;

/**
 * One line of shell for a profile hook (pre/postKubeadmCommands): not blank, no control
 * characters other than tab, so it cannot add a line to the bootstrap script that runs it.
 * Also refused: C1 controls (U+0080-U+009F, NEL among them) and U+2028/U+2029, which PyYAML,
 * the parser of cloud-init, rejects or reads as line breaks (the whole user-data would fail to
 * load, or the script would differ from the one in Ignition).
 */
export function isShellLine(s: string): boolean {
  return s.trim() !== '' && !/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/.test(s);
}

/**
 * Characters never allowed in a value the bundle inserts into boot scripts (iPXE, pxelinux,
 * kernel command lines, dnsmasq), which have no quoting to rely on: whitespace and control
 * characters (split or end the line), quotes and backslash (GRUB/pxelinux/shell quoting), `$`
 * and braces (iPXE `${var}` expansion), `#` (iPXE/dnsmasq comments), `<`, `>`, `|`, `&` and
 * backtick (iPXE `||`/`&&`, shells), and `;` (a lone `;` ends an iPXE command, ipxe
 * src/core/exec.c; a NoCloud `ds=nocloud;s=URL` argument ends at the next `;`).
 */
const BOOT_UNSAFE = /[\s\x00-\x1f\x7f"'\\$`{}#<>|&;]/;

/** What a boot base URL (`boot.assetsUrl`, `configUrl`, `matchboxUrl`) must be, for messages. */
export const BOOT_URL_RULE = 'an absolute http:// or https:// URL without spaces, quotes, ;, $, #, a query or a fragment, e.g. http://198.18.0.1:8080/k8s';

/**
 * Why `value` is not a safe boot base URL (see {@link BOOT_UNSAFE}, {@link BOOT_URL_RULE}), or
 * undefined when it is one.
 */
export function bootUrlProblem(value: string): string | undefined {
  if (BOOT_UNSAFE.test(value)) return 'contains a character that is not safe in a boot script';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') return 'must use http or https';
  if (url.search !== '' || url.hash !== '') return 'must not carry a query or fragment';
  return undefined;
}

/** One extra kernel argument (`boot.kernelArgs[i]`): a single non-empty token, see {@link BOOT_UNSAFE}. */
export function isKernelArg(value: string): boolean {
  return value !== '' && !BOOT_UNSAFE.test(value);
}

/**
 * True for a block device path safe in a kernel argument, a systemd unit line and a curtin
 * match: `/dev/` then path segments of A-Z a-z 0-9 and `. _ : + , @ = -` (by-id and by-path
 * names such as `/dev/disk/by-path/pci-0000:00:1f.2-ata-1` fit), no `..` segment.
 */
export function isInstallDisk(value: string): boolean {
  return /^\/dev\/[A-Za-z0-9._:+,@=-]+(\/[A-Za-z0-9._:+,@=-]+)*$/.test(value) && !value.split('/').some((part) => part === '.' || part === '..');
}

/** What `installDisk` must be, for messages. */
export const INSTALL_DISK_RULE = 'a block device path under /dev/, e.g. /dev/sda, /dev/nvme0n1 or /dev/disk/by-id/wwn-0x5000c500a1b2c3d4';

/** What a kernel argument must be, for messages. */
export const KERNEL_ARG_RULE = 'one token per list item, without spaces, quotes, ;, $, # or control characters, e.g. "console=ttyS0,115200n8"';

/** An http(s) URL (what Ignition downloads a Flatcar sysext image from). */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '' && !/\s/.test(s);
  } catch {
    return false;
  }
}

/** MAC address `aa:bb:cc:dd:ee:ff` or `aa-bb-…`, any case. */
export const MAC = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/;

/** Address family of a literal IP address, or undefined if it is not one. */
export function ipFamily(s: string): 4 | 6 | undefined {
  if (isIPv4(s)) return 4;
  if (isIPv6(s) && !s.includes('%')) return 6;
  return undefined;
}

/** An address as it goes before `:port` in a URL or host:port: IPv6 in brackets, anything else as is. */
export function bracketIp(host: string): string {
  return ipFamily(host) === 6 ? `[${host}]` : host;
}

/** Splits `addr` or `addr/prefix`; undefined if the address or prefix is malformed. */
export function parseAddressWithPrefix(s: string): { address: string; family: 4 | 6; prefix?: number } | undefined {
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const family = ipFamily(address);
  if (family === undefined) return undefined;
  if (slash < 0) return { address, family };
  const text = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const prefix = Number(text);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

/** One CIDR of a kubeadm subnet list, parsed. */
export interface ParsedCidr {
  /** The CIDR as written. */
  text: string;
  address: string;
  family: 4 | 6;
  prefix: number;
}

/**
 * A kubeadm subnet list (`networking.podSubnet`/`serviceSubnet`): one CIDR, or two separated by
 * a comma (kubeadm's dual-stack form, `10.96.0.0/16,fd00:10:96::/112`), no spaces: kubeadm splits
 * on "," and parses each part with Go's net.ParseCIDR (validation.go ValidateIPNetFromString).
 * @returns the parsed CIDRs in order, or undefined when a part is not a CIDR or there are more than two.
 */
export function parseCidrList(s: string): ParsedCidr[] | undefined {
  const parts = s.split(',');
  if (parts.length > 2) return undefined;
  const out: ParsedCidr[] = [];
  for (const text of parts) {
    const p = parseAddressWithPrefix(text);
    if (p === undefined || p.prefix === undefined) return undefined;
    out.push({ text, address: p.address, family: p.family, prefix: p.prefix });
  }
  return out;
}

/** True for one CIDR or a comma-separated pair ({@link parseCidrList}). */
export function isCidrList(s: string): boolean {
  return parseCidrList(s) !== undefined;
}

/** What is wrong with a node's static network settings, and at which of its fields. */
export interface StaticNetworkProblem { field: 'address' | 'secondaryAddress' | 'gateway'; message: string; hint: string }

/**
 * The rule static network settings (NoCloud network-config, `ip=` kernel arguments) follow:
 * with a gateway or DNS servers, the address (and a dual-stack node's `secondary` address)
 * needs its prefix length, and the gateway must be
 * of the address's family and inside its subnet. Shared by the profile check (resolve.ts) and
 * the bundle (network.ts, for plans made in code).
 * @returns the problem, or undefined when the settings are usable (or there are none).
 */
export function staticNetworkProblem(
  address: string, prefix: number | undefined, gateway: string | undefined, dns: readonly string[] | undefined,
  secondary?: { address: string; prefix?: number | undefined },
): StaticNetworkProblem | undefined {
  if (gateway === undefined && (dns ?? []).length === 0) return undefined;
  // Dual stack: the second address goes into the same settings, so it needs its prefix too.
  for (const [field, a, p] of [['address', address, prefix], ['secondaryAddress', secondary?.address, secondary?.prefix]] as const) {
    if (a !== undefined && p === undefined)
      return { field, message: `${a} has no prefix length, which static network settings (gateway, dns) need`, hint: `write the address with its prefix, e.g. ${a}/${ipFamily(a) === 6 ? 64 : 24}` };
  }
  if (gateway !== undefined) {
    const [a, g] = [ipaddr.parse(address), ipaddr.parse(gateway)];
    if (g.kind() !== a.kind() || !g.match(a, prefix!))
      return { field: 'gateway', message: `${gateway} is not inside ${address}/${prefix}`, hint: "the default gateway must be on the node's own subnet" };
  }
  return undefined;
}

/** A MAC address as the plan keeps it: lower case, colon-separated (`52-54-00-AA-BB-CC` -> `52:54:00:aa:bb:cc`). */
export function normalMac(mac: string): string {
  return mac.toLowerCase().replace(/-/g, ':');
}

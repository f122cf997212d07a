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
  DNS1123_LABEL,
  IMAGE_REF,
  K8S_VERSION,
  MAC,
  ipFamily,
  isCidr,
  isDns1123Subdomain,
  isInterfaceName,
  parseAddressWithPrefix,
} from './values.js';

const str = (test: (s: string) => boolean, message: string) =>
  z.string().check(z.refine(test, { error: message, abort: true }));

const int = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));
const num = (min: number, max: number) => z.number().check(z.gte(min), z.lte(max));

const label = str((s) => DNS1123_LABEL.test(s), 'expected a DNS-1123 label (a-z, 0-9 and "-", at most 63, alphanumeric at both ends)');
const ip = str((s) => ipFamily(s) !== undefined, 'expected an IPv4 or IPv6 address');
const nodeAddress = str(
  (s) => parseAddressWithPrefix(s) !== undefined,
  'expected an IPv4 or IPv6 address, optionally with a prefix length (172.16.217.171 or 172.16.217.171/16)',
);
const ifname = str(isInterfaceName, 'expected a Linux interface name (1-15 of A-Z a-z 0-9 _ . @ -)');
const image = str((s) => IMAGE_REF.test(s), 'expected a container image reference such as haproxy:2.8');
const port = int(1, 65535);

/** One `[[nodes]]` entry: a control-plane node. */
export const nodeSchema = z.strictObject({
  name: label,
  address: nodeAddress,
  priority: z.optional(int(1, 254)),
  interface: z.optional(ifname),
  mac: z.optional(str((s) => MAC.test(s), 'expected a MAC address such as 52:54:00:12:34:56')),
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
  }),
  keepalived: z.optional(
    z.strictObject({
      authPass: z.optional(str((s) => AUTH_PASS.test(s), 'expected 1-8 characters of A-Z a-z 0-9 _ . , : ; @ % + = * ^ ~ / -')),
      advertInterval: z.optional(num(0.01, 255)),
      image: z.optional(image),
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
    version: str((s) => K8S_VERSION.test(s), 'expected a Kubernetes version such as v1.31.2'),
    apiServerPort: z.optional(port),
    podSubnet: z.optional(str(isCidr, 'expected a CIDR such as 10.244.0.0/16')),
    serviceSubnet: z.optional(str(isCidr, 'expected a CIDR such as 10.96.0.0/12')),
    controlPlaneEndpoint: z.optional(
      str((s) => isDns1123Subdomain(s) && ipFamily(s) === undefined, 'expected a DNS name (no port, no scheme), e.g. k8s-api.example.com'),
    ),
  }),
  nodes: z.array(nodeSchema).check(z.minLength(1)),
});

/** A profile as written (validated structure, no defaults applied). */
export type RawProfile = z.infer<typeof profileSchema>;

/** Hints for fields whose rule is not obvious from the message, keyed by the last path key. */
export const FIELD_HINTS: Record<string, string> = {
  authPass: 'keepalived keeps only 8 characters of auth_pass (VRRP_AUTH_LEN in vrrp.h); set K8S_HA_AUTH_PASS to keep it out of the file',
  routerId: 'virtual_router_id must be unique per L2 segment; pick 1-255',
  interface: 'Linux refuses names longer than 15 characters or with "/", ":" or white space',
  name: 'use lower-case letters, digits and "-" (it becomes a hostname and a Kubernetes node name)',
  advertInterval: 'seconds between VRRP adverts; below 1 s (or fractional) switches to VRRP version 3',
};

/**
 * The `render --json` document: one JSON object for pipelines (Terraform's
 * `jsondecode(file(...))`, a Pulumi or CDK program), printed on stdout.
 *
 * Shape (keys in this order; every size in bytes, every path as given to --out, relative or
 * absolute):
 * ```
 * {
 *   "cluster": { "name", "kubernetesVersion", "vips": [..], "port", "controlPlaneEndpoint",
 *                "caCertHash", "ignitionVersion", "format" },
 *   "nodes": { "<node name>": { "name", "role", "address", "vrrp": { "state", "priority" } | null,
 *              "userData"?, "metaData"?, "networkConfig"?, "ignition"?,
 *              "sizes": { "userData"?, "ignition"? }, "paths": { "userData"?, "metaData"?, "ignition"? } } },
 *   "secrets"?: { "bootstrapToken", "certificateKey" }
 * }
 * ```
 * `nodes` is keyed by node name (in profile order), so `for_each = local.k8s.nodes` works
 * directly. Texts of a format not rendered (`--format ignition` has no userData) are absent.
 * Secrets appear only inside user-data and Ignition (as in the files), and under "secrets"
 * only with --show-secrets.
 */
import type { ClusterSecrets, IgnitionVersion, Plan, RenderedNode } from '../index.js';

/** Input of {@link renderJson}: what the render command has after writing. */
export interface RenderJsonInput {
  plan: Plan;
  secrets: ClusterSecrets;
  rendered: RenderedNode[];
  format: 'cloud-init' | 'ignition' | 'all';
  ignitionVersion: IgnitionVersion;
  /** The directory the files were written to. */
  outDir: string;
  /** A node's directory under outDir, `name/` (or '' with --node). */
  prefix: (r: RenderedNode) => string;
  showSecrets: boolean;
}

/** The JSON text (two-space indent, final newline) of the document described above. */
export function renderJson(i: RenderJsonInput): string {
  const cloudInit = i.format !== 'ignition';
  const ignition = i.format !== 'cloud-init';
  const path = (r: RenderedNode, file: string) => `${i.outDir}/${i.prefix(r)}${file}`;
  const nodes = Object.fromEntries(
    i.rendered.map((r) => {
      const networkConfig = cloudInit ? r.networkConfig : undefined;
      return [
        r.node.name,
        {
          name: r.node.name,
          role: r.node.role,
          address: r.node.address,
          vrrp: r.node.vrrp ? { state: r.node.vrrp.state, priority: r.node.vrrp.priority } : null,
          ...(cloudInit ? { userData: r.userData, metaData: r.metaData } : {}),
          ...(networkConfig !== undefined ? { networkConfig } : {}),
          ...(ignition ? { ignition: r.ignition } : {}),
          sizes: {
            ...(cloudInit ? { userData: Buffer.byteLength(r.userData) } : {}),
            ...(ignition ? { ignition: Buffer.byteLength(r.ignition) } : {}),
          },
          paths: {
            ...(cloudInit ? { userData: path(r, 'user-data'), metaData: path(r, 'meta-data') } : {}),
            ...(ignition ? { ignition: path(r, 'config.ign') } : {}),
          },
        },
      ];
    }),
  );
  const doc = {
    cluster: {
      name: i.plan.name,
      kubernetesVersion: i.plan.kubernetes.version,
      vips: i.plan.vip.addresses,
      port: i.plan.vip.port,
      controlPlaneEndpoint: i.plan.kubernetes.controlPlaneEndpoint,
      caCertHash: i.secrets.caCertHash,
      ignitionVersion: i.ignitionVersion,
      format: i.format,
    },
    nodes,
    ...(i.showSecrets ? { secrets: { bootstrapToken: i.secrets.bootstrapToken, certificateKey: i.secrets.certificateKey } } : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

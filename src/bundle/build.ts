import type { Plan, PlanNode } from '../model.js';
import { DEFAULT_IGNITION_VERSION, type IgnitionVersion } from '../versions.js';
import { renderNode } from '../render.js';
import type { ClusterSecrets } from '../secrets/store.js';
import { checkBootSettings, usesIgnition } from './boot.js';
import { checkMaxUserData, userDataBytes, type UserDataSize } from './budget.js';
import { fail } from '../profile/errors.js';
import { bundleEntries, checkNodes, requireMacs } from './layout.js';
import { checkMatchboxIgnition } from './matchbox.js';
import { packArchive, writeArchive } from '../sinks/tar.js';

/** Options of {@link buildBundle}. */
export interface BundleOptions {
  /**
   * Output: a file path (`*.tar` uncompressed, anything else, e.g. `*.tar.gz`, gzip-compressed;
   * written atomically, mode 0600), or a writable stream, which gets a gzip-compressed archive
   * unless `gzip` is false and is ended when the archive is complete.
   */
  out: string | NodeJS.WritableStream;
  /** For a stream `out`: gzip-compress (default true). Ignored for a path. */
  gzip?: boolean;
  /** The cluster's secrets (bootstrap token, certificate key, CA), as for render. */
  secrets: ClusterSecrets;
  ignitionVersion?: IgnitionVersion;
  /** Fail when a node's user-data is larger than this many bytes (`--max-user-data`). */
  maxUserData?: number;
}

/**
 * Writes the network-boot bundle of `plan` to `opts.out` (./layout.ts lists the members),
 * a file or a stream,
 * rendering node by node while the archive streams, and returns each node's user-data size
 * in plan order for the budget report.
 * @throws ProblemError when the plan has no `[boot]` section, a boot value is unsafe, a node
 *   lacks a MAC or has inconsistent static settings, or user-data exceeds `maxUserData`;
 *   nothing is written to `opts.out` then.
 */
export async function buildBundle(plan: Plan, opts: BundleOptions): Promise<UserDataSize[]> {
  const boot = checkBundleInputs(plan, opts.ignitionVersion);
  const sizes = new Map<string, number>();
  const render = (node: PlanNode) => {
    const rendered = renderNode(plan, node, opts.secrets, opts.ignitionVersion);
    const size = { node: node.name, bytes: userDataBytes(rendered.userData) };
    checkMaxUserData(size, opts.maxUserData);
    sizes.set(node.name, size.bytes);
    return rendered;
  };
  const entries = bundleEntries({ boot, nodes: plan.nodes, render });
  if (typeof opts.out === 'string') await writeArchive(opts.out, entries);
  else await packArchive(entries, opts.out, { gzip: opts.gzip ?? true });
  return plan.nodes.map((node) => ({ node: node.name, bytes: sizes.get(node.name) ?? 0 }));
}

/**
 * Checks everything the bundle needs before anything is written or any secret is made: a
 * `[boot]` section with safe values, for every node a MAC and consistent static settings
 * (./layout.ts checkNodes), and for an Ignition OS an Ignition spec Matchbox parses. Returns
 * the checked boot settings.
 * @throws ProblemError naming the field (or `--ignition-version`).
 */
export function checkBundleInputs(plan: Plan, ignitionVersion: IgnitionVersion = DEFAULT_IGNITION_VERSION): ReturnType<typeof checkBootSettings> {
  if (plan.boot === undefined) {
    fail('E_REQUIRED', ['boot'], 'the bundle needs a [boot] section',
      '[boot] os = "flatcar" (or "fcos", "ubuntu"), assetsUrl = "http://...", configUrl = "http://..."');
  }
  const boot = checkBootSettings(plan.boot);
  checkNodes(boot, requireMacs(plan.nodes));
  if (usesIgnition(boot.os)) checkMatchboxIgnition(ignitionVersion);
  return boot;
}

/**
 * k8s-ha's library API: what `import ... from 'k8s-ha'` gives, and the only path the CLI
 * (src/commands/) takes into the generator.
 *
 * The flow is one way: a profile (TOML/YAML text, a file, or a plain object) is loaded and
 * validated into a {@link Plan}; the plan and the cluster's {@link ClusterSecrets} render to one
 * {@link RenderedNode} per node (cloud-init user-data, NoCloud meta-data and network-config,
 * Ignition JSON, and the list of files the node gets); a plan with a `[boot]` section also
 * builds a network-boot bundle.
 *
 * Library functions never exit the process and never write to stdout or stderr: a profile
 * with errors comes back as `{ ok: false, problems }`, with the same problems (code, field
 * path, line:col, message, hint) that the CLI prints; format them with {@link formatProblems}.
 *
 * @example
 * ```ts
 * import { loadProfile, createSecrets, renderNodes, formatProblems } from 'k8s-ha';
 * const loaded = loadProfile('profiles/seed.toml');
 * if (!loaded.ok) throw new Error(formatProblems(loaded.source, loaded.problems, loaded.text));
 * const secrets = await createSecrets();
 * for (const n of renderNodes(loaded.plan, secrets)) console.log(n.node.name, n.userData.length);
 * ```
 */
import { CODES, ProblemError, type Problem } from './profile/errors.js';
import { loadProfile as loadProfileOrThrow, parseProfile as parseProfileOrThrow, validateProfile, type LoadedProfile, type ProfileEnv, type ProfileFormat } from './profile/load.js';
import type { UserDataSize } from './bundle/budget.js';
import type { BundleOptions } from './bundle/build.js';
import type { Plan } from './model.js';
import type { IgnitionVersion } from './versions.js';
import type { ClusterSecrets } from './secrets/store.js';
import type { ClusterDiff } from './day2/diff.js';

export type { BootOs, BootSettings, Family, NodeFile, NodePayload, NodeRole, NodeUnit, Plan, PlanNode, PlanWarning, RemoteFile, VrrpState } from './model.js';
export { BOOT_OSES } from './model.js';
export { IGNITION_VERSIONS, type IgnitionVersion } from './versions.js';
export type { CodeName, FieldPath, Problem } from './profile/errors.js';
export { formatPath, formatProblems, ProblemError } from './profile/errors.js';
export type { ProfileEnv, ProfileFormat } from './profile/load.js';
export { detectProfileFormat } from './profile/load.js';
export { failoverTimesMs, SLOW_FAILOVER_MS, type FailoverTiming } from './profile/vrrp.js';
export { starterProfile, STARTER_DEFAULTS, type StarterOptions } from './profile/starter.js';
export { renderCluster as renderNodes, renderNode, type RenderedNode, type RenderOptions } from './render.js';
export type { ClusterCa } from './secrets/generate.js';
export {
  generateSecrets as createSecrets,
  loadSecrets,
  parseSecrets,
  resolveSecrets,
  saveSecrets,
  secretsPathFor,
  serialiseSecrets,
  type ClusterSecrets,
  type ResolvedSecrets,
  type SecretsWarning,
} from './secrets/store.js';
export type { BundleOptions } from './bundle/build.js';
export type { UserDataSize } from './bundle/budget.js';

/** Options of {@link loadProfile} and {@link parseProfile}. */
export interface LoadOptions {
  /** Where `K8S_HA_AUTH_PASS` (the VRRP password, which wins over the profile's) is read; default `process.env`. Pass `{}` to ignore the environment. */
  env?: ProfileEnv;
}

/** Options of {@link parseProfile}. */
export interface ParseOptions extends LoadOptions {
  /** How to parse a string input; ignored for an object. */
  format?: ProfileFormat;
  /**
   * The name problems carry, and the file a relative `keepalived.authPassFile` is anchored to
   * (its directory); default `(string)` for text and `(object)` for an object, both anchored to
   * the working directory. A name ending in .toml, .yaml or .yml also gives the format.
   */
  source?: string;
}

/**
 * A loaded profile: the resolved plan and its warnings, or every problem that stopped it.
 * - `source`: the file name (or {@link ParseOptions.source}) the problems refer to;
 * - `text`: the profile's text when there was one, for {@link formatProblems}' source lines;
 * - `warnings` / `problems`: {@link Problem}s with `severity`, `code`, `path`, `line`/`col`
 *   (1-based; code points) where known, `message` and `hint`.
 */
export type ProfileResult =
  | { ok: true; plan: Plan; warnings: Problem[]; source: string; text?: string }
  | { ok: false; problems: Problem[]; source: string; text?: string };

/** The {@link ProfileResult} of a loader call that may throw ProblemError. */
function toResult(source: string, load: () => LoadedProfile): ProfileResult {
  try {
    const { plan, problems, text } = load();
    return { ok: true, plan, warnings: problems, source, ...(text !== '' ? { text } : {}) };
  } catch (e) {
    if (e instanceof ProblemError) return { ok: false, problems: e.problems, source, ...(e.text !== undefined ? { text: e.text } : {}) };
    throw e;
  }
}

/**
 * Reads, parses (by extension: .toml, .yaml, .yml), validates and resolves the profile at
 * `path`. Never throws for a bad profile: an unreadable file, a syntax error or an invalid
 * value is `{ ok: false, problems }`.
 * @throws only for internal errors (a bug).
 */
export function loadProfile(path: string, opts: LoadOptions = {}): ProfileResult {
  return toResult(path, () => loadProfileOrThrow(path, opts.env));
}

/**
 * Parses and validates a profile given as TOML or YAML text (with `opts.format`, or a
 * `opts.source` name that has the extension), or as a plain object shaped like the parsed
 * file (the JSON form of the profile; `k8s-ha schema` prints its JSON Schema). Problems in text
 * carry line:col; problems in an object carry only the field path.
 * @throws TypeError when a string is given without a format (neither `format` nor a
 *   `source` with a known extension); otherwise as {@link loadProfile}.
 */
export function parseProfile(input: string | Record<string, unknown>, opts: ParseOptions = {}): ProfileResult {
  if (typeof input !== 'string') {
    const source = opts.source ?? '(object)';
    return toResult(source, () => validateProfile(source, structuredClone(input), opts.env));
  }
  const source = opts.source ?? '(string)';
  const format = opts.format ?? formatOf(source);
  if (format === undefined) throw new TypeError(`parseProfile: say how to parse the text: { format: 'toml' } or { format: 'yaml' }`);
  return toResult(source, () => parseProfileOrThrow(source, input, opts.env, format));
}

/** The profile format a file name's extension implies, if any. */
function formatOf(name: string): ProfileFormat | undefined {
  if (/\.toml$/i.test(name)) return 'toml';
  if (/\.ya?ml$/i.test(name)) return 'yaml';
  return undefined;
}

/**
 * Writes the network-boot bundle of a plan that has a `[boot]` section (iPXE and pxelinux
 * configs, per-node user-data, meta-data, network-config and Ignition, a dnsmasq example,
 * Matchbox profiles and groups, a README) to a file or a stream; see {@link BundleOptions}.
 * Returns each node's user-data size in bytes, in plan order.
 * @throws ProblemError (its `problems`, without a file) when the plan cannot be
 *   bundled: no `[boot]`, a node without MAC, an unsafe boot value, user-data over
 *   `maxUserData`; nothing is written to a file `out` then.
 */
export async function buildBundle(plan: Plan, opts: BundleOptions): Promise<UserDataSize[]> {
  const { buildBundle: build } = await import('./bundle/build.js');
  return build(plan, opts);
}

/**
 * Checks what {@link buildBundle} needs before anything is written or any secret is made: a
 * `[boot]` section with safe values, a MAC and consistent static settings for every node, and
 * for an Ignition OS a spec version Matchbox parses.
 * @throws ProblemError naming the field (or `--ignition-version`).
 */
export async function checkBundle(plan: Plan, ignitionVersion?: IgnitionVersion): Promise<void> {
  const { checkBundleInputs } = await import('./bundle/build.js');
  checkBundleInputs(plan, ignitionVersion);
}

/** Every problem code and its short form (`E014`, `W103`), as the CLI prints them. */
export const PROBLEM_CODES: Readonly<Record<keyof typeof CODES, string>> = CODES;

export type { AppliedBy, ClusterDiff, FileChange, NodeDiff, StaticPodName } from './day2/diff.js';
export type { PreviousNode, PreviousOutput } from './day2/read.js';
export { CONFIG_HASH_ANNOTATION, configHash } from './components/static-pods.js';

/** Options of {@link diffAgainst}. */
export interface DiffOptions {
  /** Ignition spec the new render uses (the node files are the same for every spec). */
  ignitionVersion?: IgnitionVersion;
}

/**
 * Day two: compares the nodes of `plan` rendered with `secrets` (the cluster's existing
 * secrets, or every kubeadm config differs) against an earlier output at `against`: a
 * `k8s-ha render` directory (`<node>/user-data`, `<node>/config.ign`) or a `k8s-ha bundle`
 * archive (`.tar.gz`, `.tar`) or unpacked bundle directory (`nodes/<node>/...`). The earlier
 * files are decoded from each node's user-data (else config.ign) as cloud-init or Ignition
 * would write them.
 *
 * Result ({@link ClusterDiff}): per node `added` / `removed` / `changed` / `unchanged`, the
 * changed files with old/new SHA-256, modes, what applies them (`static-pod`, `pod-config`,
 * `first-boot`) and a unified diff with secrets redacted, and the static pods kubelet restarts
 * (those whose manifest changed: with the config-hash annotation, exactly those whose mounted
 * config changed, or whose image or command did). Reads `against`, writes nothing.
 * @throws ProblemError (E072 at --against) when `against` cannot be read or holds no node outputs.
 */
export async function diffAgainst(plan: Plan, secrets: ClusterSecrets, against: string, opts: DiffOptions = {}): Promise<ClusterDiff> {
  const [{ readPrevious }, { diffCluster }, { renderCluster }] = await Promise.all([import('./day2/read.js'), import('./day2/diff.js'), import('./render.js')]);
  const previous = await readPrevious(against);
  const current = renderCluster(plan, secrets, opts.ignitionVersion !== undefined ? { ignitionVersion: opts.ignitionVersion } : {}).map((r) => ({
    name: r.node.name,
    role: r.node.role,
    address: r.node.address,
    files: r.payload.files,
  }));
  return diffCluster(plan.name, against, current, previous.nodes);
}

/**
 * The text report of a {@link ClusterDiff} that `k8s-ha diff` prints: per node its status and
 * changed files (what applies each, old -> new sha256, mode, redacted unified diff), then a
 * summary line with the static pods that restart where.
 */
export async function formatDiff(diff: ClusterDiff): Promise<string> {
  const { formatDiff: format } = await import('./day2/report.js');
  return format(diff);
}

export type { Rollout, RolloutFile, RolloutPlan, RolloutStep, RolloutWarning } from './day2/rollout.js';

/** Options of {@link planRolloutAgainst}. */
export interface RolloutOptions {
  /** The node that holds the VIP now (`ip -o addr show to VIP` on it prints the VIP); default: assumed to be the running control-plane node of highest VRRP priority. */
  holder?: string;
  /**
   * Nodes that keep their name and place in the profile but died or are rebuilt: taken out
   * first (drain, `kubectl delete node`, `etcdctl member remove`), provisioned last, never
   * updated. Not the init node (its first boot runs `kubeadm init`).
   */
  replaced?: readonly string[];
}

/**
 * Day two: the rolling update that takes a running cluster from an earlier output (`against`,
 * as in {@link diffAgainst}) to `plan` rendered with its existing `secrets`. Returns the plan
 * (steps in a safe order: removed nodes out first, then the running control-plane nodes whose
 * static pods change with the VIP holder last, then new nodes provisioned; per step the files,
 * the pods kubelet restarts, the command to run and what to wait for) and one POSIX sh update
 * script per updated node (idempotent, atomic file replacement, waits for the restarted pods;
 * mode 0700: it embeds configs with secrets). Writes nothing.
 * @throws ProblemError as {@link diffAgainst}, or E073 (in the profile) for a `holder` that is
 *   not a running control-plane node, or a `replaced` node that is new, removed or the init node.
 */
export async function planRolloutAgainst(plan: Plan, secrets: ClusterSecrets, against: string, opts: RolloutOptions = {}): Promise<import('./day2/rollout.js').Rollout> {
  const [{ readPrevious }, { diffCluster }, { renderCluster }, { planRollout }] = await Promise.all([
    import('./day2/read.js'),
    import('./day2/diff.js'),
    import('./render.js'),
    import('./day2/rollout.js'),
  ]);
  const previous = await readPrevious(against);
  const rendered = renderCluster(plan, secrets);
  const diff = diffCluster(plan.name, against, rendered.map((r) => ({ name: r.node.name, role: r.node.role, address: r.node.address, files: r.payload.files })), previous.nodes);
  return planRollout(plan, diff, new Map(rendered.map((r) => [r.node.name, r.payload.files])), opts);
}

/** The text form of a {@link RolloutPlan} that `k8s-ha rollout` prints; `outDir`: where the scripts were written. */
export async function formatRolloutPlan(plan: import('./day2/rollout.js').RolloutPlan, outDir?: string): Promise<string> {
  const { formatRollout } = await import('./day2/rollout.js');
  return formatRollout(plan, outDir);
}

/**
 * Every version gate of k8s-ha in one place: what each Kubernetes minor and each Ignition spec
 * version gets. Components ask here instead of comparing version numbers themselves, so adding
 * a Kubernetes minor or an Ignition spec is one row. No imports: the CLI's option definitions
 * read it on every start.
 */

/** The kubeadm config APIs k8s-ha writes. */
export type KubeadmApiVersion = 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

/**
 * What k8s-ha emits for the Kubernetes releases from minor `since` up to the next row's.
 * Sources (test/fixtures/schemas/kubeadm/NOTES.md has the commits):
 * - `kubeadmApi`: kubeadm reads v1beta3 from 1.22 (v1beta3 doc.go); v1beta4 is enabled in 1.31
 *   (v1beta4 doc.go, kubernetes/kubernetes#125029; experimental before, behind a flag);
 * - `kubeletExtraArgs`: `map[string]string` in v1beta3, `[]Arg` (`{name, value}`) in v1beta4;
 * - `joinSkipsManifestsPreflight`: before 1.23, `kubeadm join --control-plane` refuses a
 *   non-empty /etc/kubernetes/manifests (ours holds the HAProxy and keepalived pods),
 *   kubernetes/kubeadm#2564, so the join config ignores `DirAvailable--etc-kubernetes-manifests`;
 * - `pause`: the pause image tag kubeadm uses (kubeadm constants.go `PauseVersion`), which the
 *   `[install]` script sets as containerd's sandbox image.
 */
export interface KubernetesFacts {
  /** First minor of the row, `major.minor` (e.g. `1.31`). */
  since: string;
  kubeadmApi: KubeadmApiVersion;
  kubeletExtraArgs: 'map' | 'list';
  joinSkipsManifestsPreflight: boolean;
  /** Tag of `registry.k8s.io/pause`, e.g. `3.10`. */
  pause: string;
}

const V1BETA3 = { kubeadmApi: 'kubeadm.k8s.io/v1beta3', kubeletExtraArgs: 'map' } as const;
const V1BETA4 = { kubeadmApi: 'kubeadm.k8s.io/v1beta4', kubeletExtraArgs: 'list' } as const;

/** The Kubernetes table, oldest first; the first row is the oldest release a profile may name. */
export const KUBERNETES_VERSIONS: readonly KubernetesFacts[] = [
  { since: '1.22', ...V1BETA3, joinSkipsManifestsPreflight: true, pause: '3.5' },
  { since: '1.23', ...V1BETA3, joinSkipsManifestsPreflight: false, pause: '3.6' },
  { since: '1.24', ...V1BETA3, joinSkipsManifestsPreflight: false, pause: '3.7' },
  { since: '1.25', ...V1BETA3, joinSkipsManifestsPreflight: false, pause: '3.8' },
  { since: '1.26', ...V1BETA3, joinSkipsManifestsPreflight: false, pause: '3.9' },
  { since: '1.31', ...V1BETA4, joinSkipsManifestsPreflight: false, pause: '3.10' },
  { since: '1.34', ...V1BETA4, joinSkipsManifestsPreflight: false, pause: '3.10.1' },
];

/** The oldest Kubernetes minor a profile may name (`1.22`: no kubeadm config API we write is older). */
export const OLDEST_KUBERNETES = KUBERNETES_VERSIONS[0]!.since;

/**
 * Major and minor of a Kubernetes version (`v1.31.2`, `1.31`) as one number to compare:
 * major * 1000 + minor (1.31 -> 1031); NaN when it does not start like a version (the profile
 * checks the full form, profile/values.ts K8S_VERSION).
 */
function minorNumber(version: string): number {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : NaN;
}

/**
 * The facts for Kubernetes release `version` (`v1.31.2`, `1.31.2`): the last row whose
 * `since` is not newer. A release older than {@link OLDEST_KUBERNETES} (which the profile
 * refuses) or a string that is not a release gets the oldest row.
 */
export function kubernetesFacts(version: string): KubernetesFacts {
  const minor = minorNumber(version);
  return KUBERNETES_VERSIONS.filter((row) => minorNumber(row.since) <= minor).at(-1) ?? KUBERNETES_VERSIONS[0]!;
}

/** True when `version` is a release k8s-ha supports ({@link OLDEST_KUBERNETES} or newer). */
export function isSupportedKubernetes(version: string): boolean {
  return minorNumber(version) >= minorNumber(OLDEST_KUBERNETES);
}

/**
 * One Ignition config spec (3.x; 2.x configs are Container Linux's and cannot be merged):
 * - `ignition`: the first Ignition release that reads it (Ignition docs, "Configuration
 *   specifications", https://coreos.github.io/ignition/specs/, table "Specification versions
 *   and Ignition releases"); an older
 *   ignition-validate reports "unsupported config version";
 * - `rendered`: k8s-ha writes configs of this spec (`--ignition-version`); user configs merged
 *   into a node's config may be of any spec in the table, no newer than the output's;
 * - `matchbox`: Matchbox serves it (it vendors Ignition's config/v3_4, so 3.5.0 fails there).
 */
export interface IgnitionSpecFacts {
  spec: string;
  ignition: string;
  rendered: boolean;
  matchbox: boolean;
}

/** The Ignition table, oldest spec first. */
export const IGNITION_SPECS = [
  { spec: '3.0.0', ignition: '2.0.0', rendered: false, matchbox: true },
  { spec: '3.1.0', ignition: '2.3.0', rendered: false, matchbox: true },
  { spec: '3.2.0', ignition: '2.7.0', rendered: false, matchbox: true },
  { spec: '3.3.0', ignition: '2.11.0', rendered: true, matchbox: true },
  { spec: '3.4.0', ignition: '2.15.0', rendered: true, matchbox: true },
  { spec: '3.5.0', ignition: '2.20.0', rendered: true, matchbox: false },
] as const satisfies readonly IgnitionSpecFacts[];

/** A spec k8s-ha renders. */
export type IgnitionVersion = Extract<(typeof IGNITION_SPECS)[number], { rendered: true }>['spec'];

/** The specs k8s-ha renders, oldest first (the `--ignition-version` choices). */
export const IGNITION_VERSIONS: readonly IgnitionVersion[] = IGNITION_SPECS.filter((s) => s.rendered).map((s) => s.spec as IgnitionVersion);

/**
 * The spec rendered when none is asked for, and of a Flatcar node's install config: 3.3.0,
 * which Fedora CoreOS, Flatcar (Ignition 2.20), Matchbox and Debian 12's Ignition 2.14 (the
 * tests' and the lab's ignition-validate) all read.
 */
export const DEFAULT_IGNITION_VERSION: IgnitionVersion = '3.3.0';

/** The Ignition release of Debian 12 (package `ignition`), whose ignition-validate the tests and the lab use. */
export const DEBIAN_IGNITION = '2.14.0';

/** Every 3.x spec, oldest first: what a user's own Ignition config may declare. */
export const USER_IGNITION_VERSIONS: readonly string[] = IGNITION_SPECS.map((s) => s.spec);

/** The newest spec Matchbox serves. */
export const MATCHBOX_MAX_IGNITION = IGNITION_SPECS.filter((s) => s.matchbox).at(-1)!.spec;

/** The table row of `spec`, or undefined for a spec not in it. */
export function ignitionSpec(spec: string): IgnitionSpecFacts | undefined {
  return IGNITION_SPECS.find((s) => s.spec === spec);
}

/** True when spec `a` is newer than spec `b` (both from {@link IGNITION_SPECS}; an unknown one counts as oldest). */
export function isNewerIgnition(a: string, b: string): boolean {
  const order = (spec: string) => IGNITION_SPECS.findIndex((s) => s.spec === spec);
  return order(a) > order(b);
}

/** `major.minor.patch` -> comparable number, for Ignition releases. */
const releaseNumber = (release: string) => release.split('.').reduce((n, part) => n * 1000 + Number(part), 0);

/** The specs an Ignition release does not read yet (`2.14.0` -> 3.4.0, 3.5.0), oldest first. */
export function specsNewerThanRelease(release: string): IgnitionSpecFacts[] {
  return IGNITION_SPECS.filter((s) => releaseNumber(s.ignition) > releaseNumber(release));
}

/**
 * Day two: what changes on each node of a running cluster when a changed profile is rendered,
 * compared with what the nodes received before (an earlier render or bundle, src/day2/read.ts).
 *
 * Files fall in three groups by what applies them on a running node:
 * - `static-pod`: a manifest in /etc/kubernetes/manifests; kubelet restarts the pod when the
 *   manifest changes (and only then: it does not watch the files a pod mounts);
 * - `pod-config`: a file a static pod mounts (/etc/haproxy, /etc/keepalived); its change also
 *   changes the pod's manifest through the config-hash annotation (components/static-pods.ts);
 * - `first-boot`: read once by the bootstrap (kubeadm config, bootstrap script, CA); copying it
 *   to a running node changes nothing, it matters for a node provisioned from now on.
 */
import { createHash } from 'node:crypto';
import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import { HAPROXY_DIR } from '../components/haproxy.js';
import { KEEPALIVED_CONF, KEEPALIVED_DIR } from '../components/keepalived.js';
import { CA_KEY, KUBEADM_CONFIG } from '../components/kubeadm.js';
import { HAPROXY_MANIFEST, KEEPALIVED_MANIFEST } from '../components/static-pods.js';
import type { NodeFile, NodeRole } from '../model.js';
import type { PreviousNode } from './read.js';

/** The static pods k8s-ha puts on control-plane nodes. */
export type StaticPodName = 'haproxy' | 'keepalived';

/** Each static pod: its manifest and the directory it mounts. */
export const STATIC_PODS: readonly { name: StaticPodName; manifest: string; configDir: string }[] = [
  { name: 'haproxy', manifest: HAPROXY_MANIFEST, configDir: HAPROXY_DIR },
  { name: 'keepalived', manifest: KEEPALIVED_MANIFEST, configDir: KEEPALIVED_DIR },
];

/** What applies a file on a running node (see the module comment). */
export type AppliedBy = 'static-pod' | 'pod-config' | 'first-boot';

/**
 * One file that differs between the earlier output and the new render of a node.
 * - `change`: `added` (only in the new render), `removed` (only in the earlier one),
 *   `modified` (content or mode differ);
 * - `oldSha256` / `newSha256`: lower-case hex SHA-256 of the file's bytes on each side;
 * - `oldMode` / `newMode`: permission bits (numbers; print them in octal);
 * - `pod`: the static pod whose manifest this is, or which mounts it;
 * - `secret`: the file carries credentials (token, certificate key, CA key, VRRP password);
 * - `diff`: unified diff (`--- a/PATH`, `+++ b/PATH`, 3 lines of context) with secret values
 *   replaced by `<redacted>`; absent for added and removed files, binary files, a change of
 *   mode alone, and owner-only files whose secrets cannot be told apart (the bootstrap script,
 *   which carries the profile's hook lines).
 */
export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  appliedBy: AppliedBy;
  pod?: StaticPodName;
  secret: boolean;
  oldSha256?: string;
  newSha256?: string;
  oldMode?: number;
  newMode?: number;
  diff?: string;
}

/**
 * One node of the comparison.
 * - `status`: `added` (not in the earlier output: provision it), `removed` (only in the earlier
 *   output: take it out of the cluster), `changed`, `unchanged`;
 * - `role`: from the profile (absent for a removed node);
 * - `files`: the changed files, sorted by path (for an added node every file, `added`; for a
 *   removed node none);
 * - `restarts`: static pods kubelet restarts once the new files are in place on this running
 *   node (their manifest changed or is new); empty for added and removed nodes.
 */
export interface NodeDiff {
  name: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  role?: NodeRole;
  address?: string;
  files: FileChange[];
  restarts: StaticPodName[];
}

/**
 * The comparison of a new render with an earlier output: nodes in the profile's order, then
 * the removed ones by name. `changed`: whether any node is added, removed or changed.
 */
export interface ClusterDiff {
  cluster: string;
  against: string;
  nodes: NodeDiff[];
  changed: boolean;
}

/** A node of the new render, as {@link diffCluster} needs it. */
export interface CurrentNode {
  name: string;
  role: NodeRole;
  address: string;
  files: readonly NodeFile[];
}

/** Lower-case hex SHA-256 of a text's UTF-8 bytes. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** What applies the file at `path` on a running node, and the static pod concerned. */
export function appliedBy(path: string): { appliedBy: AppliedBy; pod?: StaticPodName } {
  for (const p of STATIC_PODS) {
    if (path === p.manifest) return { appliedBy: 'static-pod', pod: p.name };
    if (path.startsWith(`${p.configDir}/`)) return { appliedBy: 'pod-config', pod: p.name };
  }
  return { appliedBy: 'first-boot' };
}

const REDACTED = '<redacted>';

/**
 * The text with every secret value replaced by `<redacted>`, line for line (the result has as
 * many lines as the input, so a diff can be mapped onto it):
 * - keepalived `auth_pass WORD`;
 * - YAML `token:`, `certificateKey:`, `tlsBootstrapToken:` values (kubeadm config);
 * - `--token X`, `--certificate-key X`, `--discovery-token X` command-line arguments;
 * - anything shaped like a kubeadm bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`);
 * - every line of a PEM `PRIVATE KEY` block, its BEGIN and END lines kept.
 * Public material (certificates, `caCertHashes`) is left as it is.
 */
export function redactSecrets(text: string): string {
  let inKey = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) {
        inKey = true;
        return line;
      }
      if (inKey) {
        if (/^-----END [A-Z ]*PRIVATE KEY-----/.test(line)) {
          inKey = false;
          return line;
        }
        return REDACTED;
      }
      return line
        .replace(/\b(auth_pass\s+)\S+/g, `$1${REDACTED}`)
        .replace(/\b((?:token|certificateKey|tlsBootstrapToken):\s*)(?![\s#]|$)\S+/g, `$1${REDACTED}`)
        .replace(/(--(?:token|certificate-key|discovery-token)[=\s]+)[^\s'"]+/g, `$1${REDACTED}`)
        .replace(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g, REDACTED);
    })
    .join('\n');
}

/**
 * Owner-only files whose secrets {@link redactSecrets} knows how to find. Another owner-only
 * file (the bootstrap script, which holds the profile's hook lines, possibly with credentials)
 * gets no content diff, only its hashes.
 */
const REDACTABLE = new Set([KEEPALIVED_CONF, KUBEADM_CONFIG, CA_KEY]);

/** Whether a file's content may be shown (redacted): readable by others, or one of {@link REDACTABLE}. */
function showable(f: NodeFile): boolean {
  return (f.mode & 0o004) !== 0 || REDACTABLE.has(f.path);
}

/** Whether a text looks binary (holds a NUL character): no line diff for it. */
function isBinary(text: string): boolean {
  return text.includes('\0');
}

/**
 * Unified diff of two versions of a file with secrets redacted. The diff is computed on the
 * real texts, so a changed secret shows as a changed line; each shown line is then taken from
 * the redacted text ({@link redactSecrets} keeps the line count).
 */
export function redactedDiff(path: string, oldText: string, newText: string): string {
  const patch = structuredPatch(`a${path}`, `b${path}`, oldText, newText, undefined, undefined, { context: 3 });
  const oldLines = redactSecrets(oldText).split('\n');
  const newLines = redactSecrets(newText).split('\n');
  for (const hunk of patch.hunks) {
    let o = hunk.oldStart - 1;
    let n = hunk.newStart - 1;
    hunk.lines = hunk.lines.map((l) => {
      const mark = l[0];
      if (mark === ' ') {
        o++;
        return ` ${newLines[n++]}`;
      }
      if (mark === '-') return `-${oldLines[o++]}`;
      if (mark === '+') return `+${newLines[n++]}`;
      return l; // "\ No newline at end of file"
    });
  }
  return formatPatch(patch, FILE_HEADERS_ONLY);
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The changed files of one node between `before` (earlier output) and `after` (new render).
 * A file is secret when the new render marks it so, or when it is a file the new render
 * marks secret on some node of the cluster (`secretPaths`; a removed file has no new version).
 */
export function diffFiles(before: readonly NodeFile[], after: readonly NodeFile[], secretPaths: ReadonlySet<string> = new Set()): FileChange[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const cur = new Map(after.map((f) => [f.path, f]));
  const out: FileChange[] = [];
  for (const path of [...new Set([...old.keys(), ...cur.keys()])].sort()) {
    const o = old.get(path);
    const n = cur.get(path);
    if (o && n && o.content === n.content && o.mode === n.mode) continue;
    const secret = n?.secret === true || secretPaths.has(path);
    const change: FileChange = { path, change: !o ? 'added' : !n ? 'removed' : 'modified', ...appliedBy(path), secret };
    if (o) Object.assign(change, { oldSha256: sha256(o.content), oldMode: o.mode });
    if (n) Object.assign(change, { newSha256: sha256(n.content), newMode: n.mode });
    if (o && n && o.content !== n.content && showable(o) && showable(n) && !isBinary(o.content) && !isBinary(n.content)) change.diff = redactedDiff(path, o.content, n.content);
    out.push(change);
  }
  return out.sort(byPath);
}

/** Static pods whose manifest is added or changed among `files`. */
function restartsOf(files: readonly FileChange[]): StaticPodName[] {
  return STATIC_PODS.filter((p) => files.some((f) => f.path === p.manifest && f.change !== 'removed')).map((p) => p.name);
}

/**
 * Compares the nodes of a new render (`current`, in profile order) with an earlier output
 * (`previous`); see {@link ClusterDiff}. `against` and `cluster` are carried into the result
 * for reports. Pure: reads nothing, writes nothing.
 */
export function diffCluster(cluster: string, against: string, current: readonly CurrentNode[], previous: readonly PreviousNode[]): ClusterDiff {
  const prev = new Map(previous.map((p) => [p.name, p]));
  const secretPaths = new Set(current.flatMap((c) => c.files.filter((f) => f.secret === true).map((f) => f.path)));
  const nodes: NodeDiff[] = current.map((c) => {
    const p = prev.get(c.name);
    if (p === undefined) {
      const files = [...c.files].sort(byPath).map((f): FileChange => ({ path: f.path, change: 'added', ...appliedBy(f.path), secret: f.secret === true, newSha256: sha256(f.content), newMode: f.mode }));
      return { name: c.name, status: 'added', role: c.role, address: c.address, files, restarts: [] };
    }
    const files = diffFiles(p.files, c.files, secretPaths);
    return { name: c.name, status: files.length > 0 ? 'changed' : 'unchanged', role: c.role, address: c.address, files, restarts: restartsOf(files) };
  });
  const names = new Set(current.map((c) => c.name));
  for (const p of previous.filter((q) => !names.has(q.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    nodes.push({ name: p.name, status: 'removed', files: [], restarts: [] });
  }
  return { cluster, against, nodes, changed: nodes.some((n) => n.status !== 'unchanged') };
}

/**
 * The text form of a {@link ClusterDiff}, as `k8s-ha diff` prints it.
 */
import type { ClusterDiff, FileChange, NodeDiff } from './diff.js';

const MARK = { added: 'A', removed: 'D', modified: 'M' } as const;
const octal = (m: number | undefined) => (m === undefined ? '-' : m.toString(8).padStart(4, '0'));

/** What applies a file, as a short bracketed note. */
function note(f: FileChange): string {
  if (f.appliedBy === 'static-pod') return `static pod ${f.pod}`;
  if (f.appliedBy === 'pod-config') return `mounted by ${f.pod}`;
  return 'first boot only';
}

/** One file: `M PATH  [note]`, then the sha256 and mode lines, then its diff indented. */
function fileLines(f: FileChange, withDiff: boolean): string[] {
  const lines = [`  ${MARK[f.change]} ${f.path}  [${note(f)}${f.secret ? ', secret' : ''}]`];
  if (f.change === 'modified') {
    lines.push(`      sha256 ${f.oldSha256} -> ${f.newSha256}`);
    if (f.oldMode !== f.newMode) lines.push(`      mode ${octal(f.oldMode)} -> ${octal(f.newMode)}`);
  } else {
    lines.push(`      sha256 ${f.change === 'added' ? f.newSha256 : f.oldSha256}  mode ${octal(f.change === 'added' ? f.newMode : f.oldMode)}`);
  }
  if (withDiff && f.diff !== undefined) lines.push(...f.diff.replace(/\n$/, '').split('\n').map((l) => `      ${l}`));
  return lines;
}

/** The heading line of a node. */
function nodeHeading(n: NodeDiff): string {
  const who = n.role !== undefined ? ` (${n.role}, ${n.address})` : '';
  switch (n.status) {
    case 'added':
      return `node ${n.name}${who}: new; provision it with its user-data or config.ign (${n.files.length} files)`;
    case 'removed':
      return `node ${n.name}: removed from the profile; take it out of the cluster (see README "Day two")`;
    case 'unchanged':
      return `node ${n.name}${who}: unchanged`;
    case 'changed':
      return `node ${n.name}${who}: ${n.files.length} file${n.files.length === 1 ? '' : 's'} change; ${n.restarts.length > 0 ? `kubelet restarts ${n.restarts.join(', ')}` : 'no static pod restarts'}`;
  }
}

/**
 * The report: one heading line, per node its status and changed files (path, what applies it,
 * old -> new sha256, mode, the redacted unified diff; new nodes list their files without
 * diffs), then a summary line. Deterministic for a given diff.
 */
export function formatDiff(d: ClusterDiff): string {
  const out = [`k8s-ha diff: cluster ${d.cluster} against ${d.against}`];
  for (const n of d.nodes) {
    out.push(nodeHeading(n));
    for (const f of n.files) out.push(...fileLines(f, n.status === 'changed'));
  }
  const count = (s: NodeDiff['status']) => d.nodes.filter((n) => n.status === s).length;
  const restarts = d.nodes.filter((n) => n.restarts.length > 0).map((n) => `${n.name} (${n.restarts.join(', ')})`);
  out.push(
    d.changed
      ? `summary: ${count('changed')} changed, ${count('added')} new, ${count('removed')} removed, ${count('unchanged')} unchanged; static pods restart on ${restarts.length > 0 ? restarts.join(', ') : 'no node'}`
      : `summary: no changes (${d.nodes.length} node${d.nodes.length === 1 ? '' : 's'} unchanged)`,
  );
  return `${out.join('\n')}\n`;
}

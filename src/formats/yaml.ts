/**
 * The one YAML serialiser of k8s-ha: YAML 1.1 (what PyYAML in cloud-init and Go's yaml in
 * kubelet/kubeadm read: `yes`/`no`/`on`/`off` get quoted), map keys sorted (deterministic, as
 * cdk8s does), no anchors/aliases, no line folding, multi-line strings as literal `|` blocks.
 */
import YAML from 'yaml';

/** Serialises plain data to YAML text ending in a newline. */
export function toYaml(data: unknown, opts: { sortKeys?: boolean } = {}): string {
  const doc = new YAML.Document(data, { version: '1.1', aliasDuplicateObjects: false, sortMapEntries: opts.sortKeys ?? true });
  // directives: false - no `%YAML`/`%TAG` line or `---` marker (none is ever needed here); the
  // yaml library then also skips walking every node in search of custom tags to declare.
  return doc.toString({ lineWidth: 0, blockQuote: 'literal', directives: false });
}

/** Serialises several documents separated by `---` (a multi-document kubeadm config). */
export function toYamlStream(docs: unknown[], opts: { sortKeys?: boolean } = {}): string {
  return docs.map((d) => toYaml(d, opts)).join('---\n');
}

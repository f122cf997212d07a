/**
 * Ignition config (spec 3.3.0 / 3.4.0 / 3.5.0) for one node: storage.files with data URLs,
 * systemd.units for first-boot work. Validated in the tests by the real `ignition-validate`
 * (3.3.0, Debian's Ignition 2.14) and the official JSON schemas (3.4.0, 3.5.0).
 */
import type { NodeFile, NodePayload, PlanNode, RemoteFile, UserPart } from '../model.js';
import { DEFAULT_IGNITION_VERSION, isNewerIgnition, USER_IGNITION_VERSIONS, type IgnitionVersion } from '../versions.js';
import { gzip } from './cloud-init.js';

/** An Ignition storage.files[] entry. `mode` is DECIMAL in JSON (0644 is 420). */
export interface IgnitionFile {
  path: string;
  mode: number;
  overwrite: boolean;
  contents: { compression: '' | 'gzip'; source: string; verification?: { hash: string } };
}

/**
 * Go's url.PathEscape, as Butane uses for `data:,` URLs: keeps A-Z a-z 0-9 - _ . ~ and
 * $ & + : = @, percent-encodes every other byte of the UTF-8 text (upper-case hex).
 */
export function pathEscape(s: string): string {
  // encodeURIComponent (native, upper-case hex, UTF-8) keeps A-Z a-z 0-9 - _ . ~ and also
  // ! ' ( ) *, which PathEscape encodes, and encodes $ & + : = @, which PathEscape keeps. A lone
  // surrogate becomes U+FFFD first, as Buffer.from(s, 'utf8') would make it (instead of URIError).
  return encodeURIComponent(toWellFormed(s)).replace(/[!'()*]|%(?:24|26|2B|3A|3D|40)/g, (m) =>
    m.length === 1 ? `%${m.charCodeAt(0).toString(16).toUpperCase()}` : String.fromCharCode(parseInt(m.slice(1), 16)),
  );
}

/** String.prototype.toWellFormed (Node 20; not in the ES2022 lib typings). */
const toWellFormed = (s: string): string => (s as string & { toWellFormed(): string }).toWellFormed();

/**
 * The shortest data URL for a file's contents, as Butane's MakeDataURL (coreos/butane
 * base/util/url.go) chooses it: `data:,<escaped>`, `data:;base64,<b64>`, or gzip+base64 with
 * `compression: "gzip"`. `compression` is always set (`""` for none), as Butane does, so it is
 * never inherited from a merged parent config.
 */
export function dataUrl(content: string): IgnitionFile['contents'] {
  const plain = `data:,${pathEscape(content)}`;
  const b64 = `data:;base64,${Buffer.from(content, 'utf8').toString('base64')}`;
  const gz = `data:;base64,${gzip(content).toString('base64')}`;
  if (gz.length < plain.length && gz.length < b64.length) return { compression: 'gzip', source: gz };
  return { compression: '', source: b64.length < plain.length ? b64 : plain };
}

function ignitionFile(f: NodeFile): IgnitionFile {
  return { path: f.path, mode: f.mode & 0o7777, overwrite: true, contents: dataUrl(f.content) };
}

/** A download Ignition verifies before writing (`verification.hash` = `sha512-<hex>`). */
function remoteFile(f: RemoteFile): IgnitionFile {
  return { path: f.path, mode: f.mode & 0o7777, overwrite: true, contents: { compression: '', source: f.url, verification: { hash: `sha512-${f.sha512}` } } };
}

/** The login user of Ignition systems when the profile names none (Fedora CoreOS and Flatcar). */
export const IGNITION_DEFAULT_USER = 'core';

/**
 * The first of `node`'s user Ignition configs whose spec is newer than `version` (Ignition
 * parses a merged config with the parent's spec or older), or undefined.
 */
export function newerUserIgnition(node: Pick<PlanNode, 'userContent'>, version: IgnitionVersion): UserPart | undefined {
  return (node.userContent?.ignition ?? []).find((p) => isNewerIgnition(p.version ?? USER_IGNITION_VERSIONS[0]!, version));
}

/**
 * Renders the Ignition JSON (2-space indented, trailing newline) for a node's payload.
 * With `node`, also its SSH access (`passwd.users`: the login user, default
 * {@link IGNITION_DEFAULT_USER}, with its keys; never a password) and the user's own Ignition
 * configs, in order, as `ignition.config.merge` entries with data URLs: Ignition merges each
 * into this config by its own rules (a child's value wins; k8s-ha's paths and unit were
 * checked not to collide when the profile was loaded).
 * @throws Error when a user config's spec is newer than `version` (Ignition cannot merge it).
 */
export function renderIgnition(payload: NodePayload, version: IgnitionVersion = DEFAULT_IGNITION_VERSION, node?: Pick<PlanNode, 'ssh' | 'userContent'>): string {
  const newer = node ? newerUserIgnition(node, version) : undefined;
  if (newer) throw new Error(`${newer.file} is Ignition spec ${newer.version}, newer than the output's ${version}`);
  const merge = (node?.userContent?.ignition ?? []).map((part) => dataUrl(part.text));
  const config: Record<string, unknown> = {
    ignition: merge.length > 0 ? { version, config: { merge } } : { version },
    ...(node?.ssh ? { passwd: { users: [{ name: node.ssh.user ?? IGNITION_DEFAULT_USER, sshAuthorizedKeys: [...node.ssh.authorizedKeys] }] } } : {}),
    storage: { files: [...payload.files.map(ignitionFile), ...(payload.downloads ?? []).map(remoteFile)] },
  };
  if (payload.units.length > 0) config.systemd = { units: payload.units.map((u) => ({ name: u.name, enabled: u.enabled, contents: u.contents })) };
  return `${JSON.stringify(config, null, 2)}\n`;
}

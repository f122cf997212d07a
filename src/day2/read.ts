/**
 * Reads what an earlier run produced, to compare a new render against it: the files each node
 * received, decoded from its user-data (cloud-init `write_files`) or config.ign (Ignition
 * `storage.files`) the way cloud-init and Ignition would write them.
 *
 * Layouts understood:
 * - a `k8s-ha render` output directory: `<node>/user-data`, `<node>/config.ign`;
 * - a `k8s-ha bundle` archive (`.tar.gz`, `.tgz` or `.tar`) or its unpacked directory:
 *   `nodes/<node>/user-data`, `nodes/<node>/config.ign`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { decodeCloudInit, decodeIgnition } from '../formats/decode.js';
import type { NodeFile } from '../model.js';
import { fail } from '../profile/errors.js';

/** A node as an earlier output has it: its name and the files its user-data or config.ign writes. */
export interface PreviousNode {
  name: string;
  /** Files sorted by path; `secret` is not known from the output and left out. */
  files: NodeFile[];
  /** Which output the files were decoded from: `user-data` when present, else `config.ign`. */
  from: 'user-data' | 'config.ign';
}

/** What {@link readPrevious} found. */
export interface PreviousOutput {
  /** The path it was given. */
  path: string;
  layout: 'render' | 'bundle';
  /** Nodes sorted by name. */
  nodes: PreviousNode[];
}

/** Throws problem E072 at --against in `path`: an earlier output that cannot be read or is not a render or bundle output. */
function unreadable(path: string, message: string, hint: string): never {
  fail('E_AGAINST', ['--against'], message, hint, path);
}

const NODE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const OUTPUTS = ['user-data', 'config.ign'] as const;

/**
 * Reads the nodes of an earlier `render` output directory or `bundle` archive/directory at
 * `path` (see the module comment for the layouts). Members other than a node's user-data and
 * config.ign are ignored.
 * @throws ProblemError (E072) when `path` cannot be read, holds no node outputs, or a node's
 *   user-data / config.ign does not decode (message names the member).
 */
export async function readPrevious(path: string): Promise<PreviousOutput> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    unreadable(path, `cannot read (${(e as Error).message})`, 'give --against the directory of an earlier `k8s-ha render` or the archive of an earlier `k8s-ha bundle`');
  }
  const members = new Map<string, string>();
  if (isDir) {
    for (const rel of walk(path, '', 3)) members.set(rel, readFileSync(join(path, rel), 'utf8'));
  } else {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      unreadable(path, `cannot read (${(e as Error).message})`, 'check --against');
    }
    for (const [name, content] of await untar(path, bytes)) members.set(name, content);
  }
  // A bundle keeps its nodes under nodes/; a render output has them at the top.
  const layout = [...members.keys()].some((m) => /^nodes\/[^/]+\/(user-data|config\.ign)$/.test(m)) ? 'bundle' : 'render';
  const prefix = layout === 'bundle' ? 'nodes/' : '';
  const byNode = new Map<string, Partial<Record<(typeof OUTPUTS)[number], string>>>();
  for (const [m, content] of members) {
    if (!m.startsWith(prefix)) continue;
    const [node, file, ...rest] = m.slice(prefix.length).split('/');
    if (rest.length > 0 || node === undefined || !NODE.test(node) || !(OUTPUTS as readonly string[]).includes(file ?? '')) continue;
    const entry = byNode.get(node) ?? {};
    entry[file as (typeof OUTPUTS)[number]] = content;
    byNode.set(node, entry);
  }
  if (byNode.size === 0) {
    unreadable(path, 'holds no node output (<node>/user-data or config.ign, or nodes/<node>/... in a bundle)', 'give --against the directory of an earlier `k8s-ha render` (all nodes, not --node) or an earlier bundle');
  }
  const nodes = [...byNode.keys()].sort().map((name): PreviousNode => {
    const out = byNode.get(name)!;
    const from = out['user-data'] !== undefined ? 'user-data' : 'config.ign';
    const member = `${prefix}${name}/${from}`;
    let files: NodeFile[];
    try {
      files = from === 'user-data' ? decodeCloudInit(out['user-data']!) : decodeIgnition(out['config.ign']!);
    } catch (e) {
      unreadable(path, `${member} does not decode (${(e as Error).message})`, 'the earlier output is damaged or was edited; render it again from the old profile');
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { name, files, from };
  });
  return { path, layout, nodes };
}

/** Relative paths of the regular files under `dir`, at most `depth` levels deep. */
function walk(root: string, rel: string, depth: number): string[] {
  if (depth === 0) return [];
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((d) => {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) return walk(root, p, depth - 1);
    return d.isFile() && (OUTPUTS as readonly string[]).includes(d.name) ? [p] : [];
  });
}

/** The regular-file members of a tar archive (gunzipped first when it starts with the gzip magic), as UTF-8 text. */
async function untar(path: string, bytes: Buffer): Promise<Map<string, string>> {
  let tar: Buffer;
  try {
    tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  } catch (e) {
    unreadable(path, `is not a readable gzip file (${(e as Error).message})`, 'give --against an earlier bundle archive (.tar.gz or .tar) or a render directory');
  }
  const members = new Map<string, string>();
  const extract = tarStream.extract();
  try {
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(c as Buffer));
        stream.on('end', () => {
          if (header.type === 'file') members.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks).toString('utf8'));
          next();
        });
        stream.resume();
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      Readable.from([tar]).pipe(extract);
    });
  } catch (e) {
    unreadable(path, `is not a readable tar archive (${(e as Error).message})`, 'give --against an earlier bundle archive (.tar.gz or .tar) or a render directory');
  }
  return members;
}

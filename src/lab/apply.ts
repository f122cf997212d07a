/**
 * Applies a node's outputs with the real consumers, each into its own root directory, and
 * compares the results:
 * - cloud-init (`cloud-init --file USER_DATA single --name write_files --frequency always`)
 *   inside a private mount namespace (`unshare -m`) where every top-level directory the
 *   payload writes to is an overlay whose upper layer is a tmpfs, so the machine's own files
 *   are untouched and the upper layer is exactly what cloud-init wrote; /run and /var/log are
 *   plain tmpfs and /var/lib an overlay too, for cloud-init's own state.
 * - Ignition (Debian's 2.14 binary, `-platform file`): stage fetch-offline, then stage files
 *   with `-root`. The root is seeded with what a real root has and Ignition needs: etc/passwd
 *   and etc/group (it resolves `user.name`/`group.name` there), and etc/selinux/config with
 *   SELINUXTYPE; Ignition 2.14 built with relabel support always runs `setfiles` at the end
 *   (internal/exec/stages/files/files.go relabelFiles), which Debian lacks, so a no-op
 *   `setfiles` stub goes first on PATH (the node has SELinux disabled).
 * Files of the tools themselves ({@link ARTIFACTS}) are ignored when comparing.
 */
import { mkdir, readdir, readFile, lstat, writeFile, chmod } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { NodeFile } from '../model.js';
import { run } from './proc.js';

/** Where Debian's ignition package puts the binary (it is not on PATH). */
export const IGNITION_BIN = '/usr/lib/dracut/modules.d/30ignition/ignition';

/** Paths (relative to a root, prefix match) written by cloud-init/Ignition or the lab's seeds. */
export const ARTIFACTS = ['etc/passwd', 'etc/group', 'etc/selinux/', 'etc/.ignition-result.json', 'run/cloud-init/', 'var/log/', 'var/lib/cloud/'];

/** One regular file (or symlink) of an applied tree. */
export interface TreeEntry { mode: number; content: Buffer }

/** Applied tree: path relative to the root, without leading slash -> entry. */
export type Tree = Map<string, TreeEntry>;

const CLOUD_INIT_SCRIPT = `set -e
stage=$1 user_data=$2 dest=$3; shift 3
mount -t tmpfs tmpfs "$stage"
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log
for d in "$@"; do
  mkdir -p "$stage/u$d" "$stage/w$d"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$stage/u$d,workdir=$stage/w$d" "$d"
done
cloud-init --file "$user_data" single --name write_files --frequency always
for d in "$@"; do mkdir -p "$dest$d"; cp -a "$stage/u$d/." "$dest$d/"; done
mkdir -p "$dest/run"; cp -a /run/. "$dest/run/"`;

/** Top-level directories (`/etc`, `/usr`...) the files live in. */
function topDirs(files: NodeFile[]): string[] {
  return [...new Set(files.map((f) => `/${f.path.split('/')[1]}`))].sort();
}

/**
 * Applies `userData` with cloud-init into `root` (created), using `work` as scratch space.
 * @throws Error when a file lives under /var (other than /var/lib) or /run's submounts, which
 *   the lab cannot capture, or ProblemError (E070) with cloud-init's output when it fails.
 */
export async function applyCloudInit(userData: string, files: NodeFile[], root: string, work: string): Promise<void> {
  const overlays = new Set([...topDirs(files).filter((d) => d !== '/run'), '/var/lib']);
  const bad = files.find((f) => f.path.startsWith('/var/') && !f.path.startsWith('/var/lib/'));
  if (bad || overlays.has('/var')) throw new Error(`the lab cannot capture ${bad?.path ?? '/var'}: only /var/lib is overlaid under /var`);
  await mkdir(join(work, 'stage'), { recursive: true });
  await mkdir(root, { recursive: true });
  const ud = join(work, 'user-data');
  await writeFile(ud, userData, { mode: 0o600 });
  await run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', CLOUD_INIT_SCRIPT, 'k8s-ha-lab-cloud-init',
    join(work, 'stage'), ud, root, ...[...overlays].sort()]);
}

/**
 * Applies `ignition` (config JSON) with Debian's Ignition into `root` (created, then seeded),
 * using `work` as scratch space.
 * @throws ProblemError (E070) with Ignition's log when a stage fails.
 */
export async function applyIgnition(ignition: string, root: string, work: string): Promise<void> {
  const stub = join(work, 'bin');
  await mkdir(stub, { recursive: true });
  await writeFile(join(stub, 'setfiles'), '#!/bin/sh\n# no-op: SELinux is disabled on the lab node\ncat >/dev/null\n');
  await chmod(join(stub, 'setfiles'), 0o755);
  await mkdir(join(root, 'etc/selinux'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n');
  await writeFile(join(root, 'etc/selinux/config'), 'SELINUX=disabled\nSELINUXTYPE=targeted\n');
  const cfg = join(work, 'config.ign');
  await writeFile(cfg, ignition, { mode: 0o600 });
  const common = ['-platform', 'file', '-config-cache', join(work, 'cache.json'), '-state-file', join(work, 'state'), '-log-to-stdout'];
  const env = { ...process.env, PATH: `${stub}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, IGNITION_CONFIG_FILE: cfg };
  await run([IGNITION_BIN, '-stage', 'fetch-offline', '-neednet', join(work, 'neednet'), ...common], { env });
  await run([IGNITION_BIN, '-stage', 'files', '-root', root, ...common], { env });
}

/** Reads every regular file and symlink under `root`, minus {@link ARTIFACTS}. */
export async function readTree(root: string): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      if (ARTIFACTS.some((a) => path === a || path.startsWith(a))) continue;
      if (st.isDirectory()) await walk(path);
      else tree.set(path, { mode: st.mode & 0o7777, content: st.isSymbolicLink() ? Buffer.from('symlink') : await readFile(join(root, path)) });
    }
  };
  await walk('');
  return tree;
}

/** First differing line of two texts, for messages: `line N: "a" vs "b"`. */
function firstDifference(a: Buffer, b: Buffer): string {
  const la = a.toString('utf8').split('\n');
  const lb = b.toString('utf8').split('\n');
  const i = la.findIndex((l, k) => l !== lb[k]);
  const at = i === -1 ? la.length : i;
  return `line ${at + 1}: ${JSON.stringify(la[at] ?? '<end>')} vs ${JSON.stringify(lb[at] ?? '<end>')}`;
}

/**
 * Differences between two named trees, one readable line each (empty when identical in path,
 * mode and content), e.g. `/etc/haproxy/haproxy.cfg: mode 0644 (cloud-init) vs 0600 (ignition)`.
 */
export function diffTrees(aName: string, a: Tree, bName: string, b: Tree): string[] {
  const out: string[] = [];
  const oct = (m: number) => `0${m.toString(8)}`;
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(path);
    const y = b.get(path);
    if (!x || !y) { out.push(`/${path}: only in ${x ? aName : bName}`); continue; }
    if (x.mode !== y.mode) out.push(`/${path}: mode ${oct(x.mode)} (${aName}) vs ${oct(y.mode)} (${bName})`);
    if (!x.content.equals(y.content)) out.push(`/${path}: content differs, ${firstDifference(x.content, y.content)} (${aName} vs ${bName})`);
  }
  return out;
}

/** The payload as a tree, to compare an applied tree with what the generator meant. */
export function payloadTree(files: NodeFile[]): Tree {
  return new Map(files.map((f) => [posix.normalize(f.path).slice(1), { mode: f.mode, content: Buffer.from(f.content, 'utf8') }]));
}

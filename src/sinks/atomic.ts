/**
 * Crash-safe output: a directory tree or a single file replaces the previous one as a whole,
 * never partially, even when the process is killed (SIGKILL, power loss) at any moment.
 *
 * How: everything is written into a temporary sibling (`<dir>.tmp-<pid>-<hex>`), each file
 * created with its final permission bits from the start and fsynced, then renamed into place.
 * A file the previous tree already holds with the same bytes and mode is hard-linked into the
 * temporary tree instead (and fsynced too), so it keeps its inode and mtime.
 * A directory cannot be renamed over a non-empty directory and Node has no binding for
 * renameat2(RENAME_EXCHANGE), so replacing an existing tree takes two renames done back to
 * back with synchronous syscalls: `dir` -> `<dir>.old-<pid>-<hex>`, then the temporary ->
 * `dir`. In the few microseconds between them `dir` does not exist; a run killed right there
 * leaves both complete trees behind under the same suffix, and {@link recoverTree} (run at the
 * start of every write) finishes the swap. Readers never see a partial tree at `dir`.
 *
 * Leftovers: siblings named `<name>.tmp-<pid>-<hex>` / `<name>.old-<pid>-<hex>` whose pid is
 * no longer running are removed by the next write; those of a live pid (a concurrent run, or
 * an unrelated process that reused the pid) are left alone and ignored. One writer per output
 * path at a time: two concurrent runs on the same `dir` each produce a complete tree, and the
 * later swap wins.
 *
 * Permissions: files are opened with O_CREAT|O_EXCL and their final mode, which the umask can
 * only narrow, then fchmod()ed to exactly that mode, so a 0600 secret is never readable by
 * others at any point and the result does not depend on the caller's umask.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, constants, createWriteStream, fchmodSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { fail } from '../profile/errors.js';
import { pidAlive } from '../system.js';

/** One file of a tree: `path` relative, POSIX separators, no `.`/`..`/empty segments. */
export interface TreeFile {
  path: string;
  content: string | Uint8Array;
  /** Permission bits, e.g. 0o600 for files carrying secrets. */
  mode: number;
}

/** Mode of the directories created inside a tree (files carry their own modes). */
const DIR_MODE = 0o755;

const LEFTOVER = /^(.*)\.(tmp|old)-(\d+)-([0-9a-f]{16})$/;

/** `dir` holds `found` (or, for '', is a file), which {@link writeTreeAtomic} was not allowed to replace: problem E071 at --out. */
function conflict(dir: string, found: string): never {
  const what = found === '' ? 'exists and is not a directory' : `holds ${found}, which this output would not write`;
  fail('E_OUTPUT', ['--out'], `${what}; this output replaces the whole directory`, 'choose another --out, or empty it yourself', dir);
}

/** What {@link writeTreeAtomic} did. */
export interface TreeWrite {
  /** False when `dir` already held exactly `files` (same paths, bytes and modes): then nothing was written. */
  written: boolean;
  /**
   * Relative paths that differ from what `dir` held before: new, gone, or with other bytes or
   * another mode; sorted. Every path when `dir` did not exist; empty when nothing was written.
   */
  changed: string[];
}

/**
 * Replaces directory `dir` by a tree holding exactly `files` (see the module doc for the
 * guarantees). Parents of `dir` are created as needed. An existing `dir` is replaced only when
 * it is a directory whose every file (relative path, POSIX separators) passes `replaces`: an
 * earlier output of the same kind. Anything else there (a mistyped --out naming a home or
 * /etc) is left untouched. When `dir` already holds exactly `files`, nothing is written, so
 * the files keep their mtimes (what HTTP caches, rsync and make look at) and no disk is
 * touched; otherwise the files that did not change keep theirs too (hard-linked into the new
 * tree, see {@link linkExisting}). The result says which paths changed either way.
 *
 * @throws Error for an invalid relative path (absolute, `..`, duplicate) and ProblemError (E071),
 *   both before this run writes anything (leftovers of killed runs, beside `dir` or inside it,
 *   may have been finished or removed first); any fs error (EACCES, ENOSPC, a failed rename...)
 *   after removing the temporary tree, with `dir` as it was.
 */
export async function writeTreeAtomic(dir: string, files: readonly TreeFile[], replaces: (path: string) => boolean): Promise<TreeWrite> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  sorted.forEach((f, n) => {
    const segs = f.path.split('/');
    if (segs.some((s) => s === '' || s === '.' || s === '..') || f.path.includes('\0'))
      throw new Error(`writeTreeAtomic: invalid relative path ${JSON.stringify(f.path)}`);
    if (n > 0 && sorted[n - 1]!.path === f.path)
      throw new Error(`writeTreeAtomic: duplicate path ${JSON.stringify(f.path)}`);
  });
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true, mode: DIR_MODE });
  recoverTree(dir);
  const previous = listReplaceable(dir, replaces);
  const changed = changedPaths(dir, previous, sorted);
  if (previous.exists && changed.length === 0) return { written: false, changed };
  // Files of the previous tree that stay as they are move into the new one by hard link.
  const changedSet = new Set(changed);
  const keep = (f: TreeFile) => !changedSet.has(f.path); // every path is changed when `dir` is new
  const suffix = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const tmp = `${dir}.tmp-${suffix}`;
  try {
    mkdirSync(tmp, { mode: DIR_MODE });
    const dirs = new Set<string>([tmp]);
    for (const f of sorted) {
      const target = join(tmp, ...f.path.split('/'));
      for (let d = dirname(target); !dirs.has(d); d = dirname(d)) dirs.add(d);
      mkdirSync(dirname(target), { recursive: true, mode: DIR_MODE });
      if (keep(f) && linkExisting(join(dir, ...f.path.split('/')), target)) fsyncPath(target);
      else writeNew(target, f.content, f.mode);
    }
    for (const d of dirs) fsyncPath(d);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // The swap: synchronous and back to back, so the window without `dir` is a few syscalls.
  // A rename that fails (EBUSY on a mount point, EACCES...) leaves things as they were.
  const old = `${dir}.old-${suffix}`;
  let hadOld = true;
  try {
    renameSync(dir, old);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    hadOld = false;
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (hadOld) renameSync(old, dir);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fsyncPath(parent);
  if (hadOld) rmSync(old, { recursive: true, force: true });
  return { written: true, changed };
}

/**
 * Replaces file `path` by `content` with permission bits `mode`: written to
 * `<path>.tmp-<pid>-<hex>` (created with `mode` from the start), fsynced, renamed over
 * `path`, then the directory is fsynced. Stale temporaries of dead runs are removed first.
 *
 * @throws the fs error (after removing the temporary) when any step fails.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, mode: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  recoverTree(path);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`;
  try {
    writeNew(tmp, content, mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncPath(dirname(path));
}

/**
 * Like {@link writeFileAtomic}, for output produced as a stream (tar archives, ISO images):
 * `fill` gets a Writable on the temporary file, created exclusively with `mode` (default 0600:
 * bundles and seeds carry secrets) from the first byte and flushed on close, and must end it
 * and resolve once everything is written. Then it is renamed over `path`.
 *
 * @throws the error of `fill` or of the fs (after removing the temporary); `path` is untouched.
 */
export async function writeStreamAtomic(path: string, fill: (out: Writable) => Promise<void>, mode = 0o600): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  recoverTree(path);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`;
  const out = createWriteStream(tmp, { flags: 'wx', mode, flush: true });
  try {
    await once(out, 'open');
    await fill(out);
    if (!out.closed) await once(out, 'close');
    renameSync(tmp, path);
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncPath(dirname(path));
}

/**
 * Cleans up after killed runs that wrote `target` (a tree or a file): finishes an interrupted
 * swap (when `target` is missing but a dead run left `.old-S` and its complete `.tmp-S`, the
 * new tree is moved in; with only `.old-S`, the previous one is moved back), then removes every
 * leftover of a dead pid. Leftovers of live pids are left alone. Synchronous, idempotent;
 * called by {@link writeTreeAtomic} and {@link writeFileAtomic} before they write.
 */
export function recoverTree(target: string): void {
  const parent = dirname(target);
  const name = basename(target);
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  const dead = entries.filter((e) => {
    const m = LEFTOVER.exec(e);
    return m !== null && m[1] === name && !pidAlive(Number(m[3]));
  });
  if (!entries.includes(name)) {
    // Prefer rolling forward: a `.tmp-S` with a matching `.old-S` was complete before the swap.
    const old = dead.find((e) => LEFTOVER.exec(e)![2] === 'old');
    if (old) {
      const tmp = old.replace(/\.old-(?=\d+-[0-9a-f]{16}$)/, '.tmp-');
      renameSync(join(parent, dead.includes(tmp) ? tmp : old), target);
      fsyncPath(parent);
    }
  }
  for (const e of dead) rmSync(join(parent, e), { recursive: true, force: true });
}

/** What {@link listReplaceable} found in an existing output: its files' relative paths. */
interface TreeListing {
  exists: boolean;
  files: string[];
}

/**
 * Lists the earlier output at `dir` (empty when `dir` is missing).
 * @throws ProblemError (E071) unless `dir` is missing, or a directory of files `replaces` accepts.
 */
function listReplaceable(dir: string, replaces: (path: string) => boolean): TreeListing {
  const found: TreeListing = { exists: false, files: [] };
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw e;
  }
  if (!st.isDirectory()) conflict(dir, '');
  found.exists = true;
  const walk = (rel: string): void => {
    let entries = readdirSync(join(dir, rel), { withFileTypes: true });
    // Leftovers of a killed write of a subtree (`render --node X` writes DIR/X the same way):
    // finished or removed as that write would (recoverTree); a live writer's are skipped.
    const leftovers = entries.filter((e) => LEFTOVER.test(e.name));
    if (leftovers.length > 0) {
      for (const e of leftovers) recoverTree(join(dir, rel, LEFTOVER.exec(e.name)![1]!));
      entries = readdirSync(join(dir, rel), { withFileTypes: true }).filter((e) => !LEFTOVER.test(e.name));
    }
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (!replaces(path)) conflict(dir, path);
      else found.files.push(path);
    }
  };
  walk('');
  return found;
}

/**
 * The paths of `files` (sorted) that `dir`, listed as `previous`, does not already hold as a
 * regular file with the same mode and bytes, plus the paths it holds that `files` lacks;
 * sorted. Reads only files whose size matches.
 */
function changedPaths(dir: string, previous: TreeListing, files: readonly TreeFile[]): string[] {
  const gone = new Set(previous.files);
  const changed: string[] = [];
  for (const f of files) {
    if (!gone.delete(f.path) || !holds(join(dir, ...f.path.split('/')), f)) changed.push(f.path);
  }
  return [...changed, ...gone].sort();
}

/** True when `path` is a regular file with exactly `f`'s mode and bytes. */
function holds(path: string, f: TreeFile): boolean {
  const st = lstatSync(path);
  const bytes = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
  return st.isFile() && (st.mode & 0o7777) === f.mode && st.size === bytes.length && readFileSync(path).equals(bytes);
}

/** Errors of link(2) that mean "this filesystem cannot link here", not a failed run. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

/**
 * Hard-links existing file `from` at `to` (which must not exist), so that a file the previous
 * tree already holds with the right bytes and mode keeps its inode and mtime in the new tree
 * instead of being written again. Returns false when the filesystem cannot link it (EXDEV,
 * EPERM, ENOTSUP, EMLINK: vfat, some network filesystems): then the caller writes the file anew.
 * @throws any other fs error.
 */
export function linkExisting(from: string, to: string): boolean {
  try {
    linkSync(from, to);
  } catch (e) {
    if (CANNOT_LINK.has((e as NodeJS.ErrnoException).code ?? '')) return false;
    throw e;
  }
  return true;
}

/** Creates `path` (must not exist) with exactly `mode` (fchmod: the umask may have narrowed it), writes `content`, fsyncs. */
function writeNew(path: string, content: string | Uint8Array, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    fchmodSync(fd, mode);
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * fsync a file or directory (Linux allows opening a directory read-only for this) so that its
 * data, or the entries and renames in it, survive a crash.
 */
function fsyncPath(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

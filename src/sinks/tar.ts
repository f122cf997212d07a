import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { writeStreamAtomic } from './atomic.js';

/**
 * One archive member. A directory when `content` is absent (its `path` ends in `/`).
 * - `path`: relative POSIX path inside the archive, no leading `/`, no `..`.
 * - `mode`: permission bits, e.g. `0o600` for files that carry secrets, `0o644` for the rest,
 *   `0o755` for directories.
 * - `content`: the file's bytes (strings are UTF-8 encoded).
 */
export interface ArchiveEntry {
  path: string;
  mode: number;
  content?: string | Uint8Array;
}

/**
 * Fixed modification time of every member (the Unix epoch) so that two runs produce the
 * same bytes; the gzip header of Node's zlib already carries MTIME 0 (RFC 1952 "no time stamp
 * is available") and the OS byte of the build platform.
 */
export const ARCHIVE_MTIME = new Date(0);

/** True when `out` names an uncompressed archive (`*.tar`); anything else is gzip-compressed. */
function isPlainTar(out: string): boolean {
  return out.endsWith('.tar');
}

/**
 * Streams `entries` into a deterministic POSIX (ustar) tar file at `out`, gzip-compressed
 * unless `out` ends in `.tar`. Every member gets mtime {@link ARCHIVE_MTIME}, uid/gid 0,
 * uname/gname `root` and its explicit mode, so the archive depends only on the entries.
 *
 * Entries are consumed one at a time and the next is only pulled once tar-stream has accepted
 * the previous one (the entry callback waits for the pack stream to drain), so memory stays
 * flat however many entries the iterable produces. The file is written through
 * {@link writeStreamAtomic}: mode 0600 from the start, renamed into place when complete.
 *
 * @throws Error when the entries are not strictly increasing by path (JS string order; the
 *   caller sorts, since only it can produce entries lazily in order) or a path is unsafe.
 */
export async function writeArchive(
  out: string,
  entries: Iterable<ArchiveEntry> | AsyncIterable<ArchiveEntry>,
): Promise<void> {
  await writeStreamAtomic(out, (file) => packArchive(entries, file, { gzip: !isPlainTar(out) }));
}

/**
 * Streams `entries` as a deterministic tar archive (gzip-compressed with `gzip`) into `dest`,
 * which is ended when the archive is complete. Same members and checks as {@link writeArchive}.
 * @throws Error for unordered or unsafe entry paths, or the destination's own error; `dest` is
 *   destroyed then.
 */
export async function packArchive(
  entries: Iterable<ArchiveEntry> | AsyncIterable<ArchiveEntry>,
  dest: NodeJS.WritableStream,
  opts: { gzip: boolean },
): Promise<void> {
  const pack = tarStream.pack();
  const stages = opts.gzip
    ? pipeline(pack, batch, createGzip({ level: zlibConstants.Z_BEST_COMPRESSION }), dest)
    : pipeline(pack, batch, dest);
  try {
    let previous = '';
    for await (const entry of entries) {
      checkEntryPath(entry.path, previous);
      previous = entry.path;
      await addEntry(pack, entry);
    }
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    await stages.catch(() => undefined);
    throw error;
  }
  await stages;
}

/** Bytes gathered before a write: tar-stream emits 512-byte headers and paddings, and one zlib job per tiny chunk would dominate the run time. */
const BATCH_BYTES = 256 * 1024;

/** Joins the pack stream's small chunks into writes of about {@link BATCH_BYTES}. */
async function* batch(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  let chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BATCH_BYTES) {
      yield Buffer.concat(chunks);
      chunks = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(chunks);
}

function checkEntryPath(path: string, previous: string): void {
  if (path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`archive entry path ${JSON.stringify(path)} must be relative, without . or ..`);
  }
  if (path <= previous) {
    throw new Error(`archive entries out of order: ${JSON.stringify(path)} after ${JSON.stringify(previous)}`);
  }
}

async function addEntry(pack: tarStream.Pack, entry: ArchiveEntry): Promise<void> {
  const header = {
    name: entry.path,
    mode: entry.mode,
    mtime: ARCHIVE_MTIME,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
  };
  // The callback fires once tar-stream has pushed the member and the consumer has drained it
  // (or with the error that destroyed the pack stream).
  await new Promise<void>((resolve, reject) => {
    const callback = (error?: Error | null) => (error ? reject(error) : resolve());
    if (entry.content === undefined) {
      pack.entry({ ...header, type: 'directory' }, callback);
    } else {
      pack.entry({ ...header, type: 'file' }, Buffer.from(entry.content), callback);
    }
  });
}

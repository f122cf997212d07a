import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * Writes `path` atomically with mode 0600 from the first byte: the data goes to a temporary
 * sibling `.<name>.<pid>.tmp` opened with `O_CREAT|O_EXCL` and mode 0600 (so a secret-bearing
 * archive is never readable by others, not even while being written), is fsync'ed, and is then
 * renamed over `path`. On any error the temporary file is removed and the error re-thrown;
 * an existing `path` is left untouched.
 *
 * @param path Destination file.
 * @param fill Receives a Writable on the temporary file and resolves once everything is
 *   written and the stream has finished (e.g. a `stream/promises` pipeline into it).
 */
export async function writeFileAtomic(
  path: string,
  fill: (out: Writable) => Promise<void>,
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    const out = handle.createWriteStream({ autoClose: false });
    await fill(out);
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

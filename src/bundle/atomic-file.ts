import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * Writes `path` atomically with mode 0600 from the first byte: the data goes to a temporary
 * sibling `.<name>.<pid>.tmp` created exclusively (`wx`) with mode 0600 (so a secret-bearing
 * file is never readable by others, not even while being written), flushed to disk on close
 * (fsync), and then renamed over `path`. On any error the temporary file is removed and the
 * error re-thrown; an existing `path` is left untouched.
 *
 * @param path Destination file.
 * @param fill Receives a Writable on the temporary file; it must end the stream and resolve
 *   once everything is written (e.g. a `stream/promises` pipeline into it).
 */
export async function writeFileAtomic(
  path: string,
  fill: (out: Writable) => Promise<void>,
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true });
  try {
    await once(out, 'open');
    await fill(out);
    if (!out.closed) await once(out, 'close');
    await rename(tmp, path);
  } catch (error) {
    out.destroy();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

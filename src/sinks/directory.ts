/**
 * Writes rendered outputs as a directory tree: `DIR/<node>/{user-data,meta-data,config.ign}`.
 */
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One file of an output tree: a relative POSIX path, its bytes and its mode. */
export interface OutputFile {
  path: string;
  content: string | Uint8Array;
  mode: number;
}

/**
 * Writes every file under `dir`, each created with its final mode (0600 files never exist
 * with a wider one: the mode is given at creation and re-applied in case the file existed).
 */
export function writeTree(dir: string, files: OutputFile[]): void {
  for (const f of files) {
    const target = join(dir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content, { mode: f.mode });
    chmodSync(target, f.mode);
  }
}

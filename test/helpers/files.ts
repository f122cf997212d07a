/**
 * Reading what a run wrote, the same way in every test: whole trees and file digests.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One regular file of a tree: its permission bits (e.g. 0o600) and its text. */
export interface TreeEntry {
  mode: number;
  content: string;
}

/**
 * Every file under `dir`, recursively: relative path (POSIX separators) -> mode and UTF-8
 * content, in sorted path order. Directories themselves are not listed.
 * @throws Error for anything else in the tree (a symlink, a FIFO...): our outputs hold
 *   regular files only, and a symlink must not pass for the file it points to.
 */
export function readTree(dir: string): Map<string, TreeEntry> {
  const out: [string, TreeEntry][] = [];
  const walk = (sub: string): void => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile()) out.push([rel, { mode: lstatSync(join(dir, rel)).mode & 0o7777, content: readFileSync(join(dir, rel), 'utf8') }]);
      else throw new Error(`readTree: ${join(dir, rel)} is not a regular file or directory`);
    }
  };
  walk('');
  return new Map(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Lower-case hex SHA-256 of a file's bytes. */
export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

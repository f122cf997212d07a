/**
 * Child process for the SIGKILL test: `node atomic-writer.js DIR GEN` prints `ready`, writes
 * the tree of generation GEN to DIR with writeTreeAtomic, prints `done`.
 */
import { fileURLToPath } from 'node:url';
import { writeTreeAtomic, type TreeFile } from '../../src/sinks/atomic.js';

/** The complete tree of one generation: 9 node directories, 4 files each, about 1 MB. */
export function treeFor(gen: number): TreeFile[] {
  const files: TreeFile[] = [];
  for (let n = 1; n <= 9; n++) {
    const body = `generation ${gen} node ${n}\n`.repeat(1200);
    files.push(
      { path: `node${n}/user-data`, content: `#cloud-config\n${body}`, mode: 0o600 },
      { path: `node${n}/meta-data`, content: `instance-id: g${gen}-n${n}\n`, mode: 0o644 },
      { path: `node${n}/config.ign`, content: Buffer.from(body), mode: 0o600 },
      { path: `node${n}/etc/keepalived/check_apiserver.sh`, content: `#!/bin/sh\n# ${gen}\n`, mode: 0o755 },
    );
  }
  return files;
}

/** The files an earlier {@link treeFor} tree holds: what a new one may replace. */
export const isTreeFile = (path: string): boolean => /^node\d\//.test(path);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, gen] = process.argv.slice(2);
  process.stdout.write('ready\n');
  await writeTreeAtomic(dir!, treeFor(Number(gen)), isTreeFile);
  process.stdout.write('done\n');
}

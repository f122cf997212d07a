/**
 * Facts about the machine k8s-ha runs on, asked in one place: where an executable is, and
 * whether a process is alive.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * The first executable file named `name` in the directories of `path` (a PATH value; empty
 * entries are skipped, not taken as the working directory), or `name` itself when it is an
 * absolute path; undefined when there is none.
 */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = name.startsWith('/') ? [name] : path.split(delimiter).filter(Boolean).map((d) => join(d, name));
  const executable = (file: string) =>
    access(file, constants.X_OK).then(
      () => true,
      () => false,
    );
  for (const c of candidates) {
    if (await executable(c)) return c;
  }
  return undefined;
}

/**
 * True when a process with this pid exists (EPERM: it exists, owned by someone else). Not a
 * positive integer (0 would signal our own process group, -1 every process): false.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

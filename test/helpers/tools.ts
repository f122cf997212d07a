import { execFileSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';

/**
 * Returns true when `tool` runs here; otherwise fails the test with the Debian package to
 * install (a missing consumer is a failing test, never a silent skip).
 */
export function requireTool(t: ExecutionContext, tool: string, aptPackage: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', tool], { stdio: 'ignore' });
    return true;
  } catch {
    t.fail(`${tool} is not installed: apt-get install ${aptPackage}`);
    return false;
  }
}

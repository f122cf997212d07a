/**
 * Runs the compiled CLI as a user would, in a child process: the package's bin, bin/k8s-ha
 * (a JavaScript file with a `#!/usr/bin/env node` line, over dist/src/cli.js).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The package's bin: run it directly (its shebang finds node on PATH) or as `node bin/k8s-ha`. */
export const CLI = join(ROOT, 'bin', 'k8s-ha');
/** The Ignition and kubeadm schemas the suite checks outputs against (test/fixtures/schemas/README.md). */
export const SCHEMAS = join(ROOT, 'test', 'fixtures', 'schemas');

/** Exit code and output of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Like {@link cli}, without blocking the test's event loop (for long runs such as the lab).
 * `onSpawn` gets the child at once (its pid, to signal it or find what it left).
 * The run is stopped with SIGTERM when the test ends first (failed assertion, timeout): pass
 * the test's `t` so that a root `k8s-ha lab` never outlives it.
 */
export function cliAsync(args: string[], opts: { cwd?: string; t?: { teardown(fn: () => void): void }; onSpawn?: (child: ChildProcess) => void } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.K8S_HA_AUTH_PASS;
  const child = spawn(CLI, args, { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  opts.onSpawn?.(child);
  opts.t?.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs `bin/k8s-ha ...args` in `cwd` (default: the repository root). */
export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  if (!opts.env || !('K8S_HA_AUTH_PASS' in opts.env)) delete env.K8S_HA_AUTH_PASS;
  const r = spawnSync(CLI, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf8', env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

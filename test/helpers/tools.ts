/**
 * Running the real consumers (openssl, shellcheck, sh...) from tests. A missing program is a
 * test failure whose message says which Debian package to install, never a silent skip.
 */
import { spawnSync } from 'node:child_process';

/** Outcome of one program run. */
export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args` without a shell, feeding `input` on stdin.
 * @throws Error naming the apt package (`pkg`, default `cmd`) when `cmd` is not installed.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; pkg?: string } = {},
): RunResult {
  const input = typeof opts.input === 'string' ? Buffer.from(opts.input, 'utf8') : opts.input;
  const r = spawnSync(cmd, args, { input, env: opts.env, cwd: opts.cwd, encoding: 'buffer', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${cmd} is not installed: apt-get install -y ${opts.pkg ?? cmd}`);
  }
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** Like {@link run} but throws with stderr when the exit status is not 0; returns stdout. */
export function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Child processes of the lab: one-shot commands with readable errors, and long-running
 * children each in their own process group so a whole container (keepalived forks a VRRP
 * child, HAProxy a worker) can be signalled at once, the way a container runtime kills a pod.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { error, ProblemError } from '../profile/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Environment variable set on every process the lab starts (value: the lab's own pid), and
 * inherited by their children (a container's `env -i` list carries it too): how
 * {@link labProcesses} finds what a lab left running, whatever its name.
 */
export const LAB_MARK = 'K8SHA_LAB';

/** A command that exited non-zero (`code`) or could not start (null): problem E070 about the machine with argv and its output. */
function commandFailed(argv: string[], code: number | null, stderr: string): ProblemError {
  return new ProblemError('k8s-ha', [error('E_TOOL', [], `command failed (exit ${code}): ${argv.join(' ')}${stderr ? `\n${stderr.trimEnd()}` : ''}`)], undefined, '');
}

/**
 * Runs argv to completion (no shell) and resolves with its stdout.
 * @throws ProblemError (E070) on a non-zero exit or when the program cannot be started.
 */
export function run(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(commandFailed(argv, null, e.message)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(commandFailed(argv, code, err || out))));
    child.stdin?.on('error', () => {}).end(opts.input); // EPIPE: the exit code tells
  });
}

/** A long-running child in its own process group, with its output kept for diagnosis. */
export interface Daemon {
  /** Label for messages, e.g. `node1/keepalived`. */
  label: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the whole child has exited. */
  exited: Promise<number | string>;
  /** Last 8 KiB of combined stdout/stderr. */
  log(): string;
  /** When it was started, ms since the epoch ({@link nowMs}). */
  startedAt: number;
  /**
   * Every output line so far with the time it arrived (ms since the epoch), for `lab --logs`.
   * Lines handed to `onLine` (data, like the probe's) are not kept.
   */
  transcript: { t: number; line: string }[];
}

/** Set while the lab tears down: no daemon may start any more (a scenario still running). */
let refusing = false;

/** Makes {@link startDaemon} throw (`on`) or work again: teardown, then the next lab run. */
export function refuseNewDaemons(on: boolean): void {
  refusing = on;
}

/** Every daemon started and not yet reaped; teardown kills whatever is left here. */
const live = new Set<Daemon>();
/** Every daemon started since the last {@link takeStartedDaemons}, reaped or not. */
let started: Daemon[] = [];

/** Returns the daemons started since the last call (in start order) and forgets them. */
export function takeStartedDaemons(): Daemon[] {
  const all = started;
  started = [];
  return all;
}

/**
 * Starts argv as a daemon in a new process group (detached), stdout/stderr captured.
 * `onLine` receives each stdout line (for children that report data, like the probe).
 * @throws Error while the lab tears down ({@link refuseNewDaemons}).
 */
export function startDaemon(label: string, argv: string[], onLine?: (line: string) => void): Daemon {
  if (refusing) throw new Error(`the lab is shutting down: ${label} not started`);
  const [cmd, ...args] = argv as [string, ...string[]];
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [LAB_MARK]: String(process.pid) } });
  let tail = '';
  const transcript: Daemon['transcript'] = [];
  /**
   * Splits a stream into lines: `each` gets every complete line, and the unterminated rest
   * when the stream ends (a process killed mid-line, a last message without a newline).
   */
  const lineSplitter = (stream: NodeJS.ReadableStream, each: (line: string) => void) => {
    let pending = '';
    stream.on('end', () => pending !== '' && each(pending));
    return (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) each(l);
    };
  };
  /** Keeps a stream's output in the tail and, line by line, in the transcript. */
  const keeper = (stream: NodeJS.ReadableStream) => {
    const record = lineSplitter(stream, (line) => transcript.push({ t: nowMs(), line }));
    return (d: string) => {
      tail = (tail + d).slice(-8192);
      record(d);
    };
  };
  const keep = keeper(child.stderr!);
  child.stdout!.setEncoding('utf8').on('data', onLine ? lineSplitter(child.stdout!, onLine) : keeper(child.stdout!));
  child.stderr!.setEncoding('utf8').on('data', keep);
  const daemon: Daemon = {
    label,
    child,
    log: () => tail,
    startedAt: nowMs(),
    transcript,
    exited: new Promise((resolve) => {
      child.on('error', (e) => { keep(`spawn error: ${e.message}\n`); resolve('error'); });
      child.on('close', (code, sig) => {
        transcript.push({ t: nowMs(), line: `[k8s-ha lab: exited, ${code ?? sig ?? 'unknown'}]` });
        resolve(code ?? sig ?? 'unknown');
      });
    }),
  };
  live.add(daemon);
  started.push(daemon);
  void daemon.exited.then(() => live.delete(daemon));
  return daemon;
}

/**
 * Sends `signal` to the daemon's whole process group while its leader runs (once the leader
 * is reaped its pid may be reused: {@link reapGroup} then finds the rest by the lab's mark).
 * SIGKILL goes first to the leader's children: a container runs `unshare --pid --fork
 * --kill-child` (kubelet.ts), whose child is the init of the container's PID namespace, and
 * killing that init makes the kernel kill and reap every process of the namespace before the
 * leader sees it exit, so the leader's exit means the whole container is gone.
 */
export function signalGroup(d: Daemon, signal: NodeJS.Signals): void {
  const pid = d.child.pid;
  if (pid === undefined || d.child.exitCode !== null || d.child.signalCode !== null) return;
  if (signal === 'SIGKILL') for (const child of childrenOf(pid)) kill(child, signal);
  kill(-pid, signal);
}

/** process.kill that ignores a target already gone. */
function kill(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Pids of the direct children of `pid` (Linux /proc/PID/task/PID/children; none when gone). */
function childrenOf(pid: number): number[] {
  try {
    // Synchronous on purpose: the signal must follow at once, before the children change.
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Stops a daemon: `signal` to its group (`to`: `children`, only to the leader's direct
 * children: a container's first process, kubelet.ts stopContainer), then SIGKILL to the group
 * after `graceMs` milliseconds. Resolves once it has exited and nothing of its process group
 * runs any more.
 */
export async function stopDaemon(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000, to: 'group' | 'children' = 'group'): Promise<void> {
  if (to === 'group') signalGroup(d, signal);
  else if (d.child.exitCode === null && d.child.signalCode === null) for (const child of childrenOf(d.child.pid!)) kill(child, signal);
  const timer = setTimeout(() => signalGroup(d, 'SIGKILL'), graceMs);
  await d.exited;
  clearTimeout(timer);
  await reapGroup(d);
}

/**
 * Waits until no process of this lab (by its mark) is left in the daemon's process group,
 * SIGKILLing each one it finds every 50 ms (a worker that outlived its exited parent).
 */
export async function reapGroup(d: Daemon): Promise<void> {
  const pgid = d.child.pid;
  if (pgid === undefined) return;
  for (;;) {
    const rest = (await labProcesses(process.pid)).filter((p) => p.pgid === pgid);
    if (!rest.length) return;
    for (const p of rest) kill(p.pid, 'SIGKILL');
    await sleep(50);
  }
}

/**
 * SIGKILLs every daemon still alive (teardown path), waits for them, then for every process
 * carrying this lab's mark to be gone (SIGKILLing it), so that nothing the lab started runs
 * when this resolves.
 */
export async function killAllDaemons(): Promise<void> {
  await Promise.all([...live].map((d) => stopDaemon(d, 'SIGKILL', 0)));
  for (;;) {
    const rest = await labProcesses(process.pid);
    if (!rest.length) return;
    for (const p of rest) kill(p.pid, 'SIGKILL');
    await sleep(50);
  }
}

/** A process found by {@link labProcesses}. */
export interface LabProcess { pid: number; pgid: number; args: string }

/**
 * Processes on this machine carrying the lab's mark ({@link LAB_MARK}), from /proc. `labPid`
 * limits them to the lab run by that process. Zombies have no environment left and are not
 * listed (they run nothing).
 */
export async function labProcesses(labPid?: number): Promise<LabProcess[]> {
  const found: LabProcess[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const environ = await readFile(`/proc/${name}/environ`, 'latin1').catch(() => '');
    const marks = environ.split('\0').filter((v) => v.startsWith(`${LAB_MARK}=`));
    if (!marks.some((v) => labPid === undefined || v === `${LAB_MARK}=${labPid}`)) continue;
    // stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (!stat || fields[0] === 'Z') continue;
    const args = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    found.push({ pid: Number(name), pgid: Number(fields[2]), args: args.split('\0').join(' ').trim() });
  }
  return found;
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `sleep(ms, value?, options?)`: node:timers/promises' setTimeout, for every module of the lab. */
export { sleep };

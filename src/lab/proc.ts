/**
 * Child processes of the lab: one-shot commands with readable errors, and long-running
 * children each in their own process group so a whole container (keepalived forks a VRRP
 * child, HAProxy a worker) can be signalled at once, the way a container runtime kills a pod.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Error of a command that exited non-zero; the message carries argv, exit code and stderr. */
export class CommandError extends Error {
  constructor(readonly argv: string[], readonly code: number | null, readonly stderr: string) {
    super(`command failed (exit ${code}): ${argv.join(' ')}${stderr ? `\n${stderr.trimEnd()}` : ''}`);
  }
}

/**
 * Runs argv to completion (no shell) and resolves with its stdout.
 * @throws CommandError on a non-zero exit or when the program cannot be started.
 */
export function run(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(new CommandError(argv, null, e.message)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CommandError(argv, code, err || out))));
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
 */
export function startDaemon(label: string, argv: string[], onLine?: (line: string) => void): Daemon {
  const [cmd, ...args] = argv as [string, ...string[]];
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Sends `signal` to the daemon's whole process group; a group already gone is not an error. */
export function signalGroup(d: Daemon, signal: NodeJS.Signals): void {
  if (d.child.pid === undefined) return;
  try {
    process.kill(-d.child.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Stops a daemon: `signal` to its group, then SIGKILL after `graceMs` milliseconds.
 * Resolves once it has exited.
 */
export async function stopDaemon(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<void> {
  signalGroup(d, signal);
  const timer = setTimeout(() => signalGroup(d, 'SIGKILL'), graceMs);
  await d.exited;
  clearTimeout(timer);
  signalGroup(d, 'SIGKILL'); // leftovers of the group (a worker that outlived its parent)
}

/** SIGKILLs every daemon still alive (teardown path) and waits for them. */
export async function killAllDaemons(): Promise<void> {
  await Promise.all([...live].map((d) => stopDaemon(d, 'SIGKILL', 0)));
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

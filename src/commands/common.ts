/**
 * Helpers shared by the command modules: profile loading with user-facing error reporting,
 * and the summary table.
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { formatProblems, ProblemError, type Problem } from '../profile/errors.js';
import type { Plan, PlanNode } from '../model.js';
import { failoverTimesMs } from '../profile/vrrp.js';
import { preflightSeconds } from '../components/vrrp-preflight.js';
import { vipWatchBoundSeconds, vipWatchRuns } from '../components/vip-watch.js';
import { ipFamily } from '../profile/values.js';
import type { ProfileFormat, ProfileResult } from '../index.js';

/** The profile used when none is given. */
export const DEFAULT_PROFILE = 'profiles/seed.toml';

/**
 * What a profile argument of `-` becomes before yargs sees it (src/cli.ts): yargs-parser reads
 * a lone `-` as an empty flag, which left the positional unset and the default profile in its
 * place. `/dev/stdin` means the same to every command.
 */
export const STDIN_PATH = '/dev/stdin';

/** The name problems and messages give a profile read from standard input. */
export const STDIN_NAME = '(stdin)';

/** True when the profile argument means standard input (`-`, `/dev/stdin`). */
export function isStdin(profile: string): boolean {
  return profile === '-' || profile === STDIN_PATH;
}

/** Parsed values of {@link withProfile}: the profile path, `--strict` and `--profile-format`. */
export interface ProfileArgs {
  profile: string;
  strict: boolean;
  profileFormat?: ProfileFormat;
}

/**
 * The `[profile]` positional (default {@link DEFAULT_PROFILE}, or none with `defaultProfile:
 * false`: the command then needs one), `--strict` and `--profile-format`, shared by every
 * command that reads a profile. `-` (or /dev/stdin) reads the profile from standard input.
 */
export function withProfile(y: Argv, describe = 'cluster profile (.toml, .yaml; - reads standard input)', defaultProfile: string | false = DEFAULT_PROFILE): Argv {
  return y
    .positional('profile', { type: 'string', ...(defaultProfile === false ? {} : { default: defaultProfile }), describe })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' })
    .option('profile-format', { choices: ['toml', 'yaml'] as const, describe: 'how to parse the profile (default: by extension; for standard input, recognised from the content)' });
}

/**
 * Reads and validates the profile an argument names, through the library API: a file (format
 * by extension unless `format` is given), or standard input for `-` and /dev/stdin (format
 * given, or recognised from the content; named {@link STDIN_NAME} in problems).
 * @throws CliError (exit 2) when standard input's format is neither given nor recognisable.
 */
export async function readProfileArg(file: string, format?: ProfileFormat): Promise<ProfileResult> {
  const { loadProfile, parseProfile, detectProfileFormat } = await import('../index.js');
  if (!isStdin(file)) {
    if (format === undefined) return loadProfile(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return loadProfile(file); // the loader's own "cannot read the profile" problem
    }
    return parseProfile(text, { format, source: file });
  }
  if (process.stdin.isTTY) process.stderr.write('k8s-ha: reading the profile from standard input (end it with Ctrl-D)\n');
  // Streamed, not readFileSync(0): a pipe from another process may be non-blocking (EAGAIN).
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const fmt = format ?? detectProfileFormat(text);
  if (fmt === undefined)
    throw new CliError(
      `k8s-ha: cannot tell whether the profile on standard input is TOML or YAML${text.trim() === '' ? ' (it is empty)' : ''}\n  hint: pass --profile-format toml or --profile-format yaml`,
      EXIT_USAGE,
    );
  return parseProfile(text, { format: fmt, source: STDIN_NAME });
}

/** The profile's name in messages: {@link STDIN_NAME} for standard input, else the argument. */
export function profileName(file: string): string {
  return isStdin(file) ? STDIN_NAME : file;
}

/** Exit codes: 1 for bad input (profile), 2 for bad usage (flags). */
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_INPUT,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Loads a profile; on failure throws ProblemError with every problem (the CLI prints them, exit 1).
 * Warnings are printed to stderr; with `strict` they are errors and fail the run.
 */
export async function loadOrExit(file: string, strict = false, format?: ProfileFormat): Promise<LoadedPlan> {
  const loaded = await readProfileArg(file, format);
  file = loaded.source;
  if (!loaded.ok) throw new ProblemError(file, loaded.problems, loaded.text);
  if (loaded.warnings.length > 0) {
    if (strict) {
      // --strict: every warning is an error, in the report and in the count.
      const problems = loaded.warnings.map((p): Problem => ({ ...p, severity: 'error' }));
      throw new ProblemError(file, problems, loaded.text);
    }
    process.stderr.write(`${formatProblems(file, loaded.warnings, loaded.text)}\n`);
  }
  return { plan: loaded.plan, warnings: loaded.warnings };
}

/** What {@link loadOrExit} returns: the plan and its warnings (already printed). */
export interface LoadedPlan {
  plan: Plan;
  warnings: Problem[];
}

/**
 * The closing count of a problem report: `k8s-ha: 1 error, 2 warnings`, then ` (--strict)` when
 * a warning's code (W…) is counted as an error, which only --strict does.
 */
export function countLine(problems: Problem[]): string {
  const e = problems.filter((p) => p.severity === 'error').length;
  const w = problems.length - e;
  const strict = problems.some((p) => p.severity === 'error' && p.code.startsWith('W_'));
  return `k8s-ha: ${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}${strict ? ' (--strict)' : ''}`;
}

/**
 * The node of `plan` named `name` (a --node argument).
 * @throws CliError (exit 2, a usage error) naming the profile and listing the nodes it has.
 */
export function nodeNamed(plan: Plan, name: string, profile: string): PlanNode {
  const node = plan.nodes.find((n) => n.name === name);
  if (node === undefined) throw new CliError(`k8s-ha: no node named "${name}" in ${profile}; nodes: ${plan.nodes.map((n) => n.name).join(', ')}`, EXIT_USAGE);
  return node;
}

/**
 * Runs `run`; problems it raises without a file (the plan checks of bundle, seed and render's
 * --max-user-data) are placed in `file`, the profile.
 */
export async function inProfile<T>(file: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw e instanceof ProblemError ? e.in(file) : e;
  }
}

/** Binary multipliers of {@link parseByteSize}: k and K are KiB, as in `16k` (dd, GNU sort). */
const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, K: 1024, Ki: 1024, KiB: 1024, m: 1024 ** 2, M: 1024 ** 2, Mi: 1024 ** 2, MiB: 1024 ** 2 };

/**
 * A byte count as a user writes it: `16384`, `16k`/`16K`/`16KiB` (x 1024), `1M`/`1MiB`
 * (x 1024 x 1024). Decimal `kB`/`MB` are refused as ambiguous (1000 or 1024?).
 * @throws Error naming the flag, what was given and the accepted forms.
 */
export function parseByteSize(flag: string, v: unknown): number {
  const text = String(v).trim();
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(text);
  const unit = m ? BYTE_UNITS[m[2]!] : undefined;
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new Error(`${flag} must be a positive whole number of bytes such as 16384, 16k or 16KiB (k = KiB = 1024 bytes), got ${JSON.stringify(String(v))}`);
  return bytes;
}

/** The `--max-user-data BYTES` option of `bundle` and `render`: 16384, 16k or 16KiB. */
export const maxUserDataOption = {
  type: 'string',
  describe: 'fail when a node\'s user-data is larger than BYTES: 16384, 16k or 16KiB (AWS allows 16k)',
  coerce: (v: unknown) => parseByteSize('--max-user-data', v),
} as const;

/** Human size: bytes below 1 KiB, else KiB with one decimal. */
export function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export { table } from '../table.js';

/** The node columns that `render` and `check` both print, before their own. */
export const NODE_HEADER = ['NODE', 'ADDRESS', 'ROLE', 'VRRP', 'PRIORITY', 'INTERFACE'] as const;

/** A node's cells under {@link NODE_HEADER}; the address with its prefix length when the profile gives one. */
export function nodeCells(n: PlanNode): string[] {
  const withPrefix = (a: string, p: number | undefined) => (p !== undefined ? `${a}/${p}` : a);
  const address = withPrefix(n.address, n.prefix) + (n.secondaryAddress !== undefined ? `, ${withPrefix(n.secondaryAddress, n.secondaryPrefix)}` : '');
  return [n.name, address, n.role, n.vrrp?.state ?? '-', String(n.vrrp?.priority ?? '-'), n.interface];
}

/**
 * What the profile's timing implies when the VIP holder fails, and who takes over: the times of
 * profile/vrrp.ts failoverTimesMs, the ones the lab holds the profile to.
 */
export function failoverLine(plan: Plan): string {
  const backups = plan.nodes.filter((n) => n.vrrp?.state === 'BACKUP');
  if (backups.length === 0) return 'failover: none (a single control-plane node has no VIP to move)';
  const next = backups.reduce((a, b) => (b.vrrp!.priority > a.vrrp!.priority ? b : a));
  const t = failoverTimesMs(plan.keepalived, next.vrrp!.priority);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `failover to ${next.name} (priority ${next.vrrp!.priority}), VIP unreachable for: holder power loss ${s(t.holderPowerLoss)}, HAProxy death on the holder ${s(t.haproxyDeath)}, graceful stop ${s(t.gracefulStop)}`;
}

/**
 * What the segment guards of issue #20 promise for the plan: how long the VRRP preflight
 * listens before keepalived's first start (components/vrrp-preflight.ts), and within how long
 * the VIP watch logs a second holder of a VIP (components/vip-watch.ts vipWatchBoundSeconds).
 */
export function guardsLine(plan: Plan): string {
  const k = plan.keepalived;
  const preflight = k.vrrpPreflight === 'enforce' ? `VRRP preflight listens ${preflightSeconds(k.advertInterval)} s for a foreign router before keepalived first starts` : 'no VRRP preflight (vrrpPreflight = "off")';
  const watch = k.vipWatch === 'off' ? 'no VIP watch (vipWatch = "off")'
    : vipWatchRuns(plan) ? `VIP watch logs a second holder of an IPv4 VIP within ${vipWatchBoundSeconds(plan)} s${plan.vip.addresses.some((a) => ipFamily(a) === 6) ? ' (IPv6 VIPs: not watched)' : ''}`
      : 'no VIP watch (IPv6 VIPs only: it speaks ARP)';
  return `segment guards: ${preflight}; ${watch}`;
}

/** One-paragraph description of the VIP setup of a plan, failover times included. */
export function vipLine(plan: Plan): string {
  const k = plan.keepalived;
  return [
    `VIP ${plan.vip.addresses.join(', ')} port ${plan.vip.port} -> apiservers port ${plan.kubernetes.apiServerPort}; controlPlaneEndpoint ${plan.kubernetes.controlPlaneEndpoint}`,
    ...(plan.family === 6 || plan.secondaryFamily !== undefined ? [`${plan.secondaryFamily !== undefined ? `dual stack (IPv${plan.family} primary)` : 'IPv6'}: serviceSubnet ${plan.kubernetes.serviceSubnet ?? '(kubeadm default)'}, podSubnet ${plan.kubernetes.podSubnet ?? '(none: the CNI decides)'}`] : []),
    `VRRP v${k.vrrpVersion}, virtual_router_id ${plan.vip.routerId}${plan.vip.secondaryRouterId !== undefined ? ` (second family: ${plan.vip.secondaryRouterId})` : ''}, advert_int ${k.advertInterval} s, ${k.authPass !== undefined ? 'PASS authentication' : 'no authentication'}; track script every ${k.track.interval} s, fall ${k.track.fall}, rise ${k.track.rise}, weight ${k.track.weight}${k.trackProcess ? '; tracks the HAProxy process too (keepalived pod hostPID)' : ''}`,
    failoverLine(plan),
    guardsLine(plan),
  ].join('\n');
}

/**
 * The line render and bundle print with kubernetes.caKey = "deliver": no output holds the CA
 * private key, `source` says where the user gets it (a ca.key file, or the command that writes
 * one), and the init node `initName` waits (bounded) for it at /etc/kubernetes/pki/ca.key.
 */
export function caKeyDeliverLine(source: string, initName: string): string {
  return `CA key: in no output (caKey = "deliver"); ${source} to /etc/kubernetes/pki/ca.key on ${initName} (mode 0600): its bootstrap waits for it\n`;
}

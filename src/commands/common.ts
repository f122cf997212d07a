/**
 * Helpers shared by the command modules: profile loading with user-facing error reporting,
 * and the summary table.
 */
import type { Argv } from 'yargs';
import { formatProblems, type Problem } from '../profile/errors.js';
import type { Plan, PlanNode } from '../model.js';

/** The profile used when none is given. */
export const DEFAULT_PROFILE = 'profiles/seed.toml';

/** Parsed values of {@link withProfile}: the profile path and `--strict`. */
export interface ProfileArgs {
  profile: string;
  strict: boolean;
}

/**
 * The `[profile]` positional (default {@link DEFAULT_PROFILE}) and `--strict`, shared by every
 * command that reads a profile.
 */
export function withProfile(y: Argv, describe = 'cluster profile (.toml, .yaml)'): Argv {
  return y
    .positional('profile', { type: 'string', default: DEFAULT_PROFILE, describe })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' });
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
 * Loads a profile; on failure prints every problem to stderr and throws CliError (exit 1).
 * Warnings are printed to stderr too; with `strict` they fail the run.
 */
export async function loadOrExit(file: string, strict = false): Promise<LoadedPlan> {
  const { loadProfile } = await import('../index.js');
  const loaded = loadProfile(file);
  if (!loaded.ok) throw new CliError(`${formatProblems(file, loaded.problems, loaded.text)}\n${countLine(loaded.problems)}`);
  if (loaded.warnings.length > 0) {
    if (strict) {
      // --strict: every warning is an error, in the report and in the count.
      const problems = loaded.warnings.map((p): Problem => ({ ...p, severity: 'error' }));
      throw new CliError(`${formatProblems(file, problems, loaded.text)}\n${countLine(problems)} (--strict)`);
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

/** The closing count of a problem report: `k8s-ha: 1 error, 2 warnings`. */
export function countLine(problems: Problem[]): string {
  const e = problems.filter((p) => p.severity === 'error').length;
  const w = problems.length - e;
  return `k8s-ha: ${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
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
 * Runs `run`; a BundleError it throws (bundle, seed and render's --max-user-data) becomes the
 * CLI's exit-1 error, formatted like profile problems.
 */
export async function asCliError<T>(file: string, run: () => Promise<T>): Promise<T> {
  const { BundleError } = await import('../bundle/errors.js');
  try {
    return await run();
  } catch (e) {
    if (e instanceof BundleError) throw new CliError(formatProblems(file, [e.toProblem()]));
    throw e;
  }
}

/** The `--max-user-data BYTES` option of `bundle` and `render`. */
export const maxUserDataOption = {
  type: 'number',
  describe: 'fail when a node\'s user-data is larger than BYTES (AWS allows 16384)',
  coerce: (v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--max-user-data must be a positive whole number of bytes, got ${v}`);
    return v;
  },
} as const;

/** Human size: bytes below 1 KiB, else KiB with one decimal. */
export function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export { table } from '../formats/table.js';

/** The node columns that `render` and `check` both print, before their own. */
export const NODE_HEADER = ['NODE', 'ADDRESS', 'ROLE', 'VRRP', 'PRIORITY', 'INTERFACE'] as const;

/** A node's cells under {@link NODE_HEADER}; the address with its prefix length when the profile gives one. */
export function nodeCells(n: PlanNode): string[] {
  const withPrefix = (a: string, p: number | undefined) => (p !== undefined ? `${a}/${p}` : a);
  const address = withPrefix(n.address, n.prefix) + (n.secondaryAddress !== undefined ? `, ${withPrefix(n.secondaryAddress, n.secondaryPrefix)}` : '');
  return [n.name, address, n.role, n.vrrp?.state ?? '-', String(n.vrrp?.priority ?? '-'), n.interface];
}

/** One-paragraph description of the VIP setup of a plan. */
export function vipLine(plan: Plan): string {
  const k = plan.keepalived;
  return [
    `VIP ${plan.vip.addresses.join(', ')} port ${plan.vip.port} -> apiservers port ${plan.kubernetes.apiServerPort}; controlPlaneEndpoint ${plan.kubernetes.controlPlaneEndpoint}`,
    ...(plan.family === 6 || plan.secondaryFamily !== undefined ? [`${plan.secondaryFamily !== undefined ? `dual stack (IPv${plan.family} primary)` : 'IPv6'}: serviceSubnet ${plan.kubernetes.serviceSubnet ?? '(kubeadm default)'}, podSubnet ${plan.kubernetes.podSubnet ?? '(none: the CNI decides)'}`] : []),
    `VRRP v${k.vrrpVersion}, virtual_router_id ${plan.vip.routerId}${plan.vip.secondaryRouterId !== undefined ? ` (second family: ${plan.vip.secondaryRouterId})` : ''}, advert_int ${k.advertInterval} s, ${k.authPass !== undefined ? 'PASS authentication' : 'no authentication'}; track script every ${k.track.interval} s, fall ${k.track.fall}, rise ${k.track.rise}, weight ${k.track.weight}`,
  ].join('\n');
}

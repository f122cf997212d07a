/**
 * The cluster-secrets options shared by the commands that render nodes (render, bundle, seed)
 * and the loading of the secrets file they name (see src/secrets/store.ts).
 */
import type { Options } from 'yargs';
import type { ClusterSecrets } from '../secrets/store.js';
import { formatProblems, ProblemError, type Problem } from '../profile/errors.js';
import type { Plan } from '../model.js';
import { CliError, EXIT_USAGE, isStdin, type ProfileArgs } from './common.js';

/** Parsed values of {@link secretsOptions}. */
export interface SecretsArgs {
  secrets?: string;
  rotate: boolean;
  showSecrets: boolean;
}

/** yargs options: --secrets FILE, --rotate, --show-secrets. */
export const secretsOptions = {
  secrets: { type: 'string', describe: 'cluster secrets file (default: <profile without extension>.secrets.json next to the profile)' },
  rotate: { type: 'boolean', default: false, describe: 'make a new bootstrap token, certificate key and CA (a new CA means a new cluster)' },
  'show-secrets': { type: 'boolean', default: false, describe: 'print the bootstrap token and certificate key' },
} satisfies Record<string, Options>;

/**
 * Loads (or creates, or with --rotate replaces) the cluster's secrets and says so on stderr,
 * with the warning that every output carries them. Secret values are never printed here.
 * A secrets file readable by others is warning W108, an error with `strict` (--strict).
 * @throws ProblemError for an invalid secrets file, or W108 under --strict; CliError when it cannot be written.
 */
export async function clusterSecrets(args: SecretsArgs & ProfileArgs, plan?: Plan): Promise<ClusterSecrets> {
  const { resolveSecrets } = await import('../index.js');
  // The secrets file's default place is beside the profile, which standard input has none of.
  if (isStdin(args.profile) && args.secrets === undefined)
    throw new CliError('k8s-ha: a profile read from standard input has no directory for its secrets file\n  hint: give --secrets FILE (it is created when missing, and must be reused by every later render)', EXIT_USAGE);
  let resolved: Awaited<ReturnType<typeof resolveSecrets>>;
  try {
    resolved = await resolveSecrets({ profilePath: args.profile, rotate: args.rotate, ...(args.secrets !== undefined ? { secretsFile: args.secrets } : {}) });
  } catch (e) {
    // A failed write (EACCES, ENOENT, ENOSPC...) is about the user's machine; anything else
    // (generating the CA failed) is a bug and goes on to main() as an internal error.
    if (typeof (e as NodeJS.ErrnoException).syscall === 'string') throw new CliError(`k8s-ha: cannot write the secrets file: ${(e as Error).message}`);
    throw e;
  }
  const what = {
    loaded: `using cluster secrets from ${resolved.file}`,
    created: `created cluster secrets ${resolved.file} (0600): keep it, every later render must reuse it`,
    rotated: `rotated cluster secrets in ${resolved.file}: new bootstrap token, certificate key and CA; nodes rendered before cannot join this cluster`,
  }[resolved.origin];
  // About the whole file: no field path (root ''), no line:col.
  const problems = resolved.warnings.map((w): Problem => ({ ...w, severity: args.strict ? 'error' : 'warning', path: [] }));
  if (args.strict && problems.length > 0) throw new ProblemError(resolved.file, problems, undefined, '');
  process.stderr.write(
    [`k8s-ha: ${what}`, ...(problems.length > 0 ? [formatProblems(resolved.file, problems, undefined, '')] : [])].join('\n') +
      `\nk8s-ha: warning: the outputs hold cluster secrets (${heldSecrets(plan)}): they are written 0600; keep them and the secrets file out of version control\n` +
      (plan?.kubernetes.caKey === 'deliver' ? '' : `k8s-ha: warning: ${CA_KEY_EXPOSURE}\n  hint: kubernetes.caKey = "deliver" keeps it out; render then writes ca.key for you to place on the init node\n`),
  );
  return resolved.secrets;
}

/**
 * The secrets the outputs of `plan` carry, for the warning: the VRRP password only when the
 * plan sets one (VRRPv3 has none). Without a plan, every kind that may be there.
 */
export function heldSecrets(plan?: Plan): string {
  const vrrp = plan === undefined || plan.keepalived.authPass !== undefined;
  return `bootstrap token, certificate key${plan?.kubernetes.caKey === 'deliver' ? '' : ', CA key'}${vrrp ? ', VRRP password' : ''}`;
}

/**
 * Where the CA private key embedded in the init node's outputs can be read once delivered:
 * user-data stays readable from a cloud's metadata service (169.254.169.254, OpenStack and
 * EC2 alike) for the life of the VM, and a network-boot bundle serves user-data and Ignition
 * over plain HTTP to anyone on the provisioning network.
 */
export const CA_KEY_EXPOSURE =
  "the init node's user-data and config.ign carry the cluster CA private key (/etc/kubernetes/pki/ca.key): a cloud serves user-data from its metadata service for the VM's whole life, and a PXE bundle's HTTP server hands it to anyone on the provisioning network";

/**
 * `k8s-ha diff [PROFILE] --against DIR`: what changes on each node of a running cluster
 * (src/day2/, library diffAgainst). Exit 0 without changes, 3 with changes (like diff(1)'s 1,
 * kept apart from k8s-ha's 1 for errors), 1 on errors.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { ClusterSecrets } from '../secrets/store.js';
import { loadOrExit, type ProfileArgs, withProfile } from './common.js';

/** Exit code of `diff` (and `rollout`) when some node changes. */
export const EXIT_CHANGES = 3;

/** Parsed values of {@link againstOptions}. */
export interface AgainstArgs extends ProfileArgs {
  against: string;
  secrets?: string;
  json: boolean;
}

/** The options `diff` and `rollout` share: --against, --secrets (read only), --json. */
export function againstOptions(y: Argv, json: string): Argv {
  return withProfile(y)
    .option('against', { type: 'string', demandOption: true, describe: 'earlier output: a render directory, or a bundle archive (.tar.gz, .tar) or directory' })
    .option('secrets', { type: 'string', describe: 'cluster secrets file (default: <profile without extension>.secrets.json next to the profile); must exist' })
    .option('json', { type: 'boolean', default: false, describe: json });
}

/**
 * The cluster's existing secrets, read only: a day-two comparison with new secrets would show
 * every kubeadm config as changed, so a missing file is an error, never created.
 * @throws ProblemError naming the file.
 */
export async function existingSecrets(args: AgainstArgs): Promise<ClusterSecrets> {
  const { loadSecrets, secretsPathFor, ProblemError } = await import('../index.js');
  const file = args.secrets ?? secretsPathFor(args.profile);
  try {
    return await loadSecrets(file);
  } catch (e) {
    if (e instanceof ProblemError) {
      // A missing file is the usual case here: say why day-two commands never create one.
      const hint = 'day-two commands compare with the secrets the cluster was rendered with; give --secrets FILE (they never create one)';
      throw new ProblemError(e.file, e.problems.map((p) => (p.path.length === 0 ? { ...p, hint } : p)), e.text, e.root);
    }
    throw e;
  }
}

/**
 * The new render of the profile compared with `--against`.
 * @throws ProblemError (E072) for an unreadable earlier output.
 */
export async function loadDiff(args: AgainstArgs) {
  const { plan } = await loadOrExit(args.profile, args.strict);
  const secrets = await existingSecrets(args);
  const { diffAgainst } = await import('../index.js');
  return { plan, diff: await diffAgainst(plan, secrets, args.against) };
}

export const diffCommand: CommandModule<object, AgainstArgs> = {
  command: 'diff [profile]',
  describe: 'Show what changes on each node against an earlier render or bundle (exit 0 none, 3 changes, 1 errors)',
  builder: (y: Argv) => againstOptions(y, 'print the comparison as JSON') as unknown as Argv<AgainstArgs>,
  handler: async (args: ArgumentsCamelCase<AgainstArgs>) => {
    const { diff } = await loadDiff(args);
    const { formatDiff } = await import('../index.js');
    process.stdout.write(args.json ? `${JSON.stringify(diff, null, 2)}\n` : await formatDiff(diff));
    if (diff.changed) process.exitCode = EXIT_CHANGES;
  },
};

/**
 * `k8s-ha bundle [PROFILE] --out FILE.tar.gz`: the network-boot bundle (NoCloud seeds,
 * Ignition, iPXE, pxelinux, Matchbox, dnsmasq example), byte-identical on every run.
 */
import type { Plan } from '../model.js';
import { DEFAULT_IGNITION_VERSION, IGNITION_VERSIONS, MATCHBOX_MAX_IGNITION, type IgnitionVersion } from '../versions.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { inProfile, caKeyDeliverLine, CliError, EXIT_USAGE, loadOrExit, maxUserDataOption, type ProfileArgs, withProfile, profileName } from './common.js';
import { clusterSecrets, secretsOptions, type SecretsArgs } from './secrets.js';

/**
 * With kubernetes.caKey = "deliver" the bundle carries no CA private key, and the init node's
 * bootstrap waits (bounded) for /etc/kubernetes/pki/ca.key: say so, and how to get the key
 * (`render --node INIT` writes it 0600, as render does for the whole cluster). '' otherwise.
 */
function deliverHint(plan: Plan, profile: string, secretsFile: string | undefined): string {
  const init = plan.nodes.find((n) => n.role === 'init');
  if (plan.kubernetes.caKey !== 'deliver' || init === undefined) return '';
  return caKeyDeliverLine(`k8s-ha render ${profile}${secretsFile === undefined ? '' : ` --secrets ${secretsFile}`} --node ${init.name} writes it as ca.key (mode 0600): copy it`, init.name);
}

interface BundleArgs extends ProfileArgs, SecretsArgs {
  out?: string;
  ignitionVersion: IgnitionVersion;
  maxUserData?: number;
}

export const bundleCommand: CommandModule<object, BundleArgs> = {
  command: 'bundle [profile]',
  describe: 'Write the network-boot bundle (.tar.gz or .tar): NoCloud seeds, Ignition, iPXE, pxelinux, Matchbox',
  builder: (y: Argv) =>
    // No default profile: the bundled seed.toml has no [boot] section.
    withProfile(y, 'cluster profile (.toml, .yaml; - reads standard input) with a [boot] section', false)
      .option('out', { type: 'string', describe: 'output file, *.tar.gz or *.tar (default: out/<cluster name>-bundle.tar.gz)' })
      .option('ignition-version', { choices: IGNITION_VERSIONS, default: DEFAULT_IGNITION_VERSION, describe: `Ignition spec version (Matchbox takes at most ${MATCHBOX_MAX_IGNITION})` })
      .option('max-user-data', maxUserDataOption)
      .options(secretsOptions) as unknown as Argv<BundleArgs>,
  handler: async (args: ArgumentsCamelCase<BundleArgs>) => {
    if (args.profile === undefined)
      throw new CliError('k8s-ha bundle: name the profile to bundle; it needs a [boot] section, e.g. k8s-ha bundle profiles/baremetal.toml\nRun k8s-ha bundle --help for usage.', EXIT_USAGE);
    const { plan } = await loadOrExit(args.profile, args.strict, args.profileFormat);
    const out = args.out ?? `out/${plan.name}-bundle.tar.gz`;
    const [{ buildBundle, checkBundle }, { budgetReport }] = await Promise.all([
      import('../index.js'), import('../bundle/budget.js'),
    ]);
    // Bad boot settings fail before a secrets file is made (writeStreamAtomic makes out's parent).
    await inProfile(profileName(args.profile), () => checkBundle(plan, args.ignitionVersion));
    const secrets = await clusterSecrets(args, plan);
    const sizes = await inProfile(profileName(args.profile), () =>
      buildBundle(plan, { out, secrets, ignitionVersion: args.ignitionVersion, ...(args.maxUserData === undefined ? {} : { maxUserData: args.maxUserData }) }));
    process.stdout.write(`k8s-ha: wrote ${out} (${plan.nodes.length} nodes, os ${plan.boot?.os}, mode 0600: it carries the cluster's secrets)\n${budgetReport(sizes)}${deliverHint(plan, args.profile, args.secrets)}`);
  },
};

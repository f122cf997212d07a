/**
 * `k8s-ha init [--vip A] [--nodes A,B,C] [--workers D,E] [--interface eth0] [--version v1.32.0]`:
 * prints a commented starter profile (TOML) that passes `k8s-ha check` as printed, like
 * `kubeadm config print init-defaults`. Writes nothing: redirect it into a file.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CliError, countLine, EXIT_USAGE } from './common.js';

interface InitArgs {
  name?: string;
  vip?: string[];
  nodes?: string[];
  workers?: string[];
  interface?: string;
  version?: string;
}

/** Comma-separated and repeated flags alike: `--nodes a,b --nodes c` is [a, b, c]. */
const listOption = (describe: string) => ({
  type: 'string' as const,
  array: true as const,
  describe,
  coerce: (v: string[]) => v.flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter((s) => s !== ''),
});

export const initCommand: CommandModule<object, InitArgs> = {
  command: 'init',
  describe: 'Print a commented starter profile (TOML) that passes check as printed; fill it from flags',
  builder: (y: Argv) =>
    y
      // --version names the Kubernetes release here, not k8s-ha's own version.
      .version(false)
      .option('name', { type: 'string', describe: 'cluster name (default my-cluster)' })
      .option('vip', listOption('VIP address(es), comma-separated'))
      .option('nodes', listOption('control-plane node addresses, comma-separated, each ADDRESS/PREFIX or NAME=ADDRESS/PREFIX (the first runs kubeadm init)'))
      .option('workers', listOption('worker node addresses, as --nodes'))
      .option('interface', { type: 'string', describe: 'NIC carrying the VIP (default eth0)' })
      .option('version', { type: 'string', describe: 'Kubernetes release, e.g. v1.32.0' })
      .example('$0 > cluster.toml', 'a starter profile with placeholder addresses')
      .example('$0 --vip 10.0.0.10 --nodes 10.0.0.11/24,10.0.0.12/24,10.0.0.13/24 --interface ens18 --version v1.32.0 | k8s-ha check -', 'filled in, checked straight away') as unknown as Argv<InitArgs>,
  handler: async (args: ArgumentsCamelCase<InitArgs>) => {
    const { starterProfile, parseProfile, formatProblems } = await import('../index.js');
    if (args.nodes !== undefined && args.vip === undefined)
      throw new CliError('k8s-ha init: --nodes needs --vip too: the VIP must be a free address in the nodes\' subnet\nRun k8s-ha init --help for usage.', EXIT_USAGE);
    const text = starterProfile({
      ...(args.name !== undefined ? { name: args.name } : {}),
      ...(args.vip !== undefined ? { vips: args.vip } : {}),
      ...(args.nodes !== undefined ? { nodes: args.nodes } : {}),
      ...(args.workers !== undefined ? { workers: args.workers } : {}),
      ...(args.interface !== undefined ? { interface: args.interface } : {}),
      ...(args.version !== undefined ? { version: args.version } : {}),
    });
    // Printed only when it passes check as printed; a bad flag value is reported on its line.
    const checked = parseProfile(text, { format: 'toml', source: '(k8s-ha init)', env: {} });
    if (!checked.ok)
      throw new CliError(`${formatProblems(checked.source, checked.problems, checked.text)}\n${countLine(checked.problems)}\n  hint: the flags filled in the values above: fix them (k8s-ha init --help)`, EXIT_USAGE);
    process.stdout.write(text);
  },
};

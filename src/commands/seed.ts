/**
 * `k8s-ha seed [PROFILE] --node NAME --out seed.iso`: one node's NoCloud seed as an ISO
 * labelled `cidata` (user-data, meta-data, network-config for static nodes).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { inProfile, loadOrExit, nodeNamed, type ProfileArgs, withProfile, profileName } from './common.js';
import { clusterSecrets, secretsOptions, type SecretsArgs } from './secrets.js';

interface SeedArgs extends ProfileArgs, SecretsArgs {
  node: string;
  out?: string;
}

export const seedCommand: CommandModule<object, SeedArgs> = {
  command: 'seed [profile]',
  describe: 'Write one node\'s NoCloud seed ISO (volume label cidata) with xorriso or genisoimage',
  builder: (y: Argv) =>
    withProfile(y)
      .option('node', { type: 'string', demandOption: true, describe: 'the node to seed' })
      .option('out', { type: 'string', describe: 'output ISO (default: out/<cluster name>-<node>-seed.iso)' })
      .options(secretsOptions) as unknown as Argv<SeedArgs>,
  handler: async (args: ArgumentsCamelCase<SeedArgs>) => {
    const { plan } = await loadOrExit(args.profile, args.strict, args.profileFormat);
    const node = nodeNamed(plan, args.node, profileName(args.profile));
    const out = args.out ?? `out/${plan.name}-${node.name}-seed.iso`;
    const [{ renderNode }, { staticNetwork }, { findIsoTool, writeSeedIso }, { budgetReport, userDataBytes }] = await Promise.all([
      import('../index.js'), import('../bundle/network.js'), import('../sinks/seed.js'), import('../bundle/budget.js'),
    ]);
    // What can fail without secrets fails first: no ISO tool, bad static settings.
    const iso = await findIsoTool();
    await inProfile(profileName(args.profile), async () => staticNetwork(node));
    const rendered = renderNode(plan, node, await clusterSecrets(args, plan));
    const networkConfig = rendered.networkConfig;
    const tool = await writeSeedIso(out, {
      'user-data': rendered.userData,
      'meta-data': rendered.metaData,
      ...(networkConfig === undefined ? {} : { 'network-config': networkConfig }),
    }, iso);
    if (!tool.reproducible) process.stderr.write(`k8s-ha: warning: ${tool.name} stamps the current time, so ${out} differs between runs; install xorriso for a reproducible ISO\n`);
    process.stdout.write(`k8s-ha: wrote ${out} (NoCloud seed of ${node.name}, volume cidata, ${tool.name}, mode 0600)\n${budgetReport([{ node: node.name, bytes: userDataBytes(rendered.userData) }])}`);
  },
};

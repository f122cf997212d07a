/**
 * `k8s-ha render [PROFILE]`: writes per-node user-data, meta-data and config.ign.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CliError, DEFAULT_PROFILE, EXIT_USAGE, loadOrExit, size, table, vipLine } from './common.js';

const FORMATS = ['cloud-init', 'ignition', 'all'] as const;

interface RenderArgs {
  profile: string;
  out?: string;
  format: (typeof FORMATS)[number];
  node?: string;
  ignitionVersion: '3.3.0' | '3.4.0' | '3.5.0';
  stdout: boolean;
  strict: boolean;
}

export const renderCommand: CommandModule<object, RenderArgs> = {
  command: 'render [profile]',
  describe: 'Render per-node cloud-init user-data, NoCloud meta-data and Ignition config',
  builder: (y: Argv) =>
    y
      .positional('profile', { type: 'string', default: DEFAULT_PROFILE, describe: 'cluster profile (.toml, .yaml)' })
      .option('out', { type: 'string', describe: 'output directory (default: out/<cluster name>)' })
      .option('format', { choices: FORMATS, default: 'all' as const, describe: 'which outputs to write' })
      .option('node', { type: 'string', describe: 'only this node' })
      .option('ignition-version', { choices: ['3.3.0', '3.4.0', '3.5.0'] as const, default: '3.3.0' as const, describe: 'Ignition spec version' })
      .option('stdout', { type: 'boolean', default: false, describe: "print one node's output (needs --node unless there is one node, and --format cloud-init or ignition)" })
      .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' }) as unknown as Argv<RenderArgs>,
  handler: async (args: ArgumentsCamelCase<RenderArgs>) => {
    const { plan } = await loadOrExit(args.profile, args.strict);
    const { renderCluster } = await import('../render.js');
    if (args.node !== undefined && !plan.nodes.some((n) => n.name === args.node))
      throw new CliError(`k8s-ha: no node named "${args.node}" in ${args.profile}; nodes: ${plan.nodes.map((n) => n.name).join(', ')}`, EXIT_USAGE);
    if (args.stdout) {
      if (args.format === 'all') throw new CliError('k8s-ha: --stdout prints one output: add --format cloud-init or --format ignition', EXIT_USAGE);
      if (args.node === undefined && plan.nodes.length > 1) throw new CliError(`k8s-ha: --stdout prints one node: add --node (one of ${plan.nodes.map((n) => n.name).join(', ')})`, EXIT_USAGE);
      const [r] = renderCluster(plan, { node: args.node ?? plan.nodes[0]!.name, ignitionVersion: args.ignitionVersion });
      process.stdout.write(args.format === 'cloud-init' ? r!.userData : r!.ignition);
      return;
    }
    const rendered = renderCluster(plan, { ...(args.node !== undefined ? { node: args.node } : {}), ignitionVersion: args.ignitionVersion });
    const outDir = args.out ?? `out/${plan.name}`;
    const { writeTree } = await import('../sinks/directory.js');
    const files = rendered.flatMap((r) => [
      ...(args.format !== 'ignition'
        ? [
            { path: `${r.node.name}/user-data`, content: r.userData, mode: 0o600 },
            { path: `${r.node.name}/meta-data`, content: r.metaData, mode: 0o644 },
          ]
        : []),
      ...(args.format !== 'cloud-init' ? [{ path: `${r.node.name}/config.ign`, content: r.ignition, mode: 0o600 }] : []),
    ]);
    writeTree(outDir, files);
    const rows = [['NODE', 'ADDRESS', 'ROLE', 'VRRP', 'PRIORITY', 'INTERFACE', 'USER-DATA', 'CONFIG.IGN']];
    for (const r of rendered) {
      const n = r.node;
      rows.push([n.name, n.address, n.role, n.vrrp?.state ?? '-', String(n.vrrp?.priority ?? '-'), n.interface, args.format !== 'ignition' ? size(Buffer.byteLength(r.userData)) : '-', args.format !== 'cloud-init' ? size(Buffer.byteLength(r.ignition)) : '-']);
    }
    process.stdout.write(
      `k8s-ha: rendered cluster ${plan.name} (${rendered.length} node${rendered.length === 1 ? '' : 's'}) into ${outDir}/ (Ignition ${args.ignitionVersion})\n${vipLine(plan)}\n${table(rows)}\n` +
        `Outputs are written 0600: they carry the cluster's secrets (VRRP password, kubeadm config).\n`,
    );
  },
};

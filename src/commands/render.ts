/**
 * `k8s-ha render [PROFILE]`: writes per-node user-data, meta-data and config.ign.
 */
import { DEFAULT_IGNITION_VERSION, IGNITION_VERSIONS, type IgnitionVersion } from '../versions.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { RenderedNode } from '../render.js';
import { clusterSecrets, secretsOptions, type SecretsArgs } from './secrets.js';
import { inProfile, caKeyDeliverLine, CliError, EXIT_USAGE, loadOrExit, maxUserDataOption, NODE_HEADER, nodeCells, nodeNamed, type ProfileArgs, size, table, vipLine, withProfile, profileName } from './common.js';

const FORMATS = ['cloud-init', 'ignition', 'all'] as const;

/**
 * What an earlier render left in its directory (`<node>/user-data`, or `user-data` with
 * --node): only such a directory is replaced, anything else there is refused.
 */
const isRenderOutput = (path: string): boolean => /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?(user-data|meta-data|config\.ign)$/.test(path) || path === 'ca.key';

interface RenderArgs extends ProfileArgs, SecretsArgs {
  out?: string;
  format: (typeof FORMATS)[number];
  node?: string;
  ignitionVersion: IgnitionVersion;
  stdout: boolean;
  json: boolean;
  maxUserData?: number;
}

export const renderCommand: CommandModule<object, RenderArgs> = {
  command: 'render [profile]',
  describe: 'Render per-node cloud-init user-data, NoCloud meta-data and Ignition config',
  builder: (y: Argv) =>
    withProfile(y)
      .option('out', { type: 'string', describe: 'output directory (default: out/<cluster name>)' })
      .option('format', { choices: FORMATS, default: 'all' as const, describe: 'which outputs to write' })
      .option('node', { type: 'string', describe: 'only this node' })
      .option('ignition-version', { choices: IGNITION_VERSIONS, default: DEFAULT_IGNITION_VERSION, describe: 'Ignition spec version' })
      .option('stdout', { type: 'boolean', default: false, describe: "print one node's output (needs --node unless there is one node, and --format cloud-init or ignition)" })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (cluster facts; per node role, address, user-data, Ignition, sizes, paths) instead of the table' })
      .options(secretsOptions)
      .option('max-user-data', maxUserDataOption) as unknown as Argv<RenderArgs>,
  handler: async (args: ArgumentsCamelCase<RenderArgs>) => {
    const { plan } = await loadOrExit(args.profile, args.strict, args.profileFormat);
    /** Sizes of the nodes' user-data; exit 1 when one exceeds --max-user-data. */
    const checkUserData = async (nodes: RenderedNode[]) => {
      const { checkMaxUserData, userDataBytes } = await import('../bundle/budget.js');
      const sizes = nodes.map((r) => ({ node: r.node.name, bytes: userDataBytes(r.userData) }));
      await inProfile(profileName(args.profile), async () => sizes.forEach((s) => checkMaxUserData(s, args.maxUserData)));
      return sizes;
    };
    const { renderNodes: renderCluster } = await import('../index.js');
    if (args.node !== undefined) nodeNamed(plan, args.node, profileName(args.profile));
    if (args.stdout && args.json) throw new CliError('k8s-ha: --stdout and --json both choose what to print: give one', EXIT_USAGE);
    if (args.stdout) {
      if (args.format === 'all') throw new CliError('k8s-ha: --stdout prints one output: add --format cloud-init or --format ignition', EXIT_USAGE);
      if (args.node === undefined && plan.nodes.length > 1) throw new CliError(`k8s-ha: --stdout prints one node: add --node (one of ${plan.nodes.map((n) => n.name).join(', ')})`, EXIT_USAGE);
      const secrets = await clusterSecrets(args, plan);
      const [r] = await inProfile(args.profile, async () => renderCluster(plan, secrets, { node: args.node ?? plan.nodes[0]!.name, ignitionVersion: args.ignitionVersion }));
      if (args.format === 'cloud-init') await checkUserData([r!]);
      process.stdout.write(args.format === 'cloud-init' ? r!.userData : r!.ignition);
      return;
    }
    // after the usage checks: a mistyped command line must not create or rotate secrets
    const secrets = await clusterSecrets(args, plan);
    const rendered = await inProfile(args.profile, async () => renderCluster(plan, secrets, { ...(args.node !== undefined ? { node: args.node } : {}), ignitionVersion: args.ignitionVersion }));
    // Only user-data that is written is measured (and rendered: see src/render.ts).
    const sizes = args.format === 'ignition' ? [] : await checkUserData(rendered);
    const outDir = args.out ?? `out/${plan.name}`;
    const { writeTreeAtomic } = await import('../sinks/atomic.js');
    // The whole tree is replaced at once (no stale files of an earlier render survive); with
    // --node, only that node's directory is.
    const prefix = (r: { node: { name: string } }) => (args.node === undefined ? `${r.node.name}/` : '');
    const files = rendered.flatMap((r) => [
      ...(args.format !== 'ignition'
        ? [
            { path: `${prefix(r)}user-data`, content: r.userData, mode: 0o600 },
            { path: `${prefix(r)}meta-data`, content: r.metaData, mode: 0o644 },
          ]
        : []),
      ...(args.format !== 'cloud-init' ? [{ path: `${prefix(r)}config.ign`, content: r.ignition, mode: 0o600 }] : []),
    ]);
    // caKey = "deliver": the CA key is in no output; it is written once, 0600, for the user to
    // copy to the init node (whose bootstrap waits for it).
    const initNode = rendered.find((r) => r.node.role === 'init');
    const deliverKey = plan.kubernetes.caKey === 'deliver' && initNode !== undefined;
    if (deliverKey) files.push({ path: 'ca.key', content: secrets.ca.keyPem, mode: 0o600 });
    const write = await writeTreeAtomic(args.node === undefined ? outDir : `${outDir}/${args.node}`, files, isRenderOutput);
    // OUTPUT: whether this node's files differ from what the directory held, i.e. whether the
    // node needs to be provisioned again.
    const rows = [[...NODE_HEADER, 'USER-DATA', 'CONFIG.IGN', 'OUTPUT']];
    rendered.forEach((r, i) => {
      const changed = write.changed.some((p) => p.startsWith(prefix(r)));
      rows.push([...nodeCells(r.node), args.format !== 'ignition' ? size(sizes[i]!.bytes) : '-', args.format !== 'cloud-init' ? size(Buffer.byteLength(r.ignition)) : '-', changed ? 'changed' : 'unchanged']);
    });
    if (args.json) {
      const { renderJson } = await import('./render-json.js');
      process.stdout.write(renderJson({ plan, secrets, rendered, format: args.format, ignitionVersion: args.ignitionVersion, outDir, prefix, showSecrets: args.showSecrets }));
      return;
    }
    const { budgetReport } = await import('../bundle/budget.js');
    process.stdout.write(
      `k8s-ha: rendered cluster ${plan.name} (${rendered.length} node${rendered.length === 1 ? '' : 's'}) into ${outDir}/ (Ignition ${args.ignitionVersion})${write.written ? '' : '; the files there were the same, nothing written'}\n${vipLine(plan)}\n${table(rows)}\n` +
        (args.showSecrets ? `bootstrap token ${secrets.bootstrapToken}\ncertificate key ${secrets.certificateKey}\n` : '') +
        `CA cert hash ${secrets.caCertHash}\n` +
        (deliverKey ? caKeyDeliverLine(`copy ${args.node === undefined ? outDir : `${outDir}/${args.node}`}/ca.key`, initNode!.node.name) : '') +
        (args.format !== 'ignition' ? `User-data size against platform limits:\n${budgetReport(sizes)}` : ''),
    );
  },
};

/**
 * `k8s-ha rollout [PROFILE] --against DIR`: the safe order of per-node steps to take a running
 * cluster to the profile, and the per-node update scripts (library planRolloutAgainst,
 * src/day2/rollout.ts). Exit 0 when nothing is to do, 3 with steps (like `diff`), 1 on errors.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadOrExit } from './common.js';
import { againstOptions, EXIT_CHANGES, existingSecrets, type AgainstArgs } from './diff.js';

interface RolloutArgs extends AgainstArgs {
  holder?: string;
  replaced?: string[];
  out?: string;
}

/** What rollout writes into its directory: only such a directory is replaced. */
const isRolloutOutput = (path: string): boolean => /^(update-[a-z0-9]([-a-z0-9]*[a-z0-9])?\.sh|rollout\.json)$/.test(path);

export const rolloutCommand: CommandModule<object, RolloutArgs> = {
  command: 'rollout [profile]',
  describe: 'Plan the rolling update of a running cluster (VIP holder last) and write per-node update scripts',
  builder: (y: Argv) =>
    againstOptions(y, 'print the plan as JSON')
      .option('holder', { type: 'string', describe: 'the node that holds the VIP now (ip -o addr show to VIP); default: the one of highest VRRP priority' })
      .option('replaced', { type: 'string', array: true, describe: 'a node that died or is rebuilt under the same name: taken out first, provisioned last (repeatable)' })
      .option('out', { type: 'string', describe: 'directory for update-<node>.sh and rollout.json (default: out/<cluster name>-rollout)' }) as unknown as Argv<RolloutArgs>,
  handler: async (args: ArgumentsCamelCase<RolloutArgs>) => {
    const { plan } = await loadOrExit(args.profile, args.strict);
    const secrets = await existingSecrets(args);
    const { planRolloutAgainst, formatRolloutPlan } = await import('../index.js');
    const rollout = await planRolloutAgainst(plan, secrets, args.against, {
      ...(args.holder !== undefined ? { holder: args.holder } : {}),
      ...(args.replaced !== undefined ? { replaced: args.replaced } : {}),
    });
    const outDir = args.out ?? `out/${plan.name}-rollout`;
    const { writeTreeAtomic } = await import('../sinks/atomic.js');
    const files = [
      ...rollout.scripts.map((s) => ({ path: s.name, content: s.content, mode: s.mode })),
      { path: 'rollout.json', content: `${JSON.stringify(rollout.plan, null, 2)}\n`, mode: 0o644 },
    ];
    await writeTreeAtomic(outDir, files, isRolloutOutput);
    // The text plan ends with the warnings; with --json they go to stderr too, for a person to see.
    if (args.json) for (const w of rollout.plan.warnings ?? []) process.stderr.write(`k8s-ha: warning ${w.code}: ${w.message}\n  hint: ${w.hint}\n`);
    process.stdout.write(args.json ? `${JSON.stringify(rollout.plan, null, 2)}\n` : `${await formatRolloutPlan(rollout.plan, outDir)}scripts and rollout.json written to ${outDir}/\n`);
    if (rollout.plan.steps.length > 0) process.exitCode = EXIT_CHANGES;
  },
};

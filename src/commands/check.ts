/**
 * `k8s-ha check [PROFILE]`: validates and prints the resolved plan and warnings; writes nothing.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CODES } from '../profile/errors.js';
import { loadOrExit, NODE_HEADER, nodeCells, type ProfileArgs, table, vipLine, withProfile } from './common.js';

interface CheckArgs extends ProfileArgs {
  json: boolean;
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check [profile]',
  describe: 'Validate a profile and print the resolved plan and warnings (writes nothing)',
  builder: (y: Argv) =>
    withProfile(y)
      .option('json', { type: 'boolean', default: false, describe: 'print the plan as JSON (secrets redacted)' }) as unknown as Argv<CheckArgs>,
  handler: async (args: ArgumentsCamelCase<CheckArgs>) => {
    const { plan, warnings } = await loadOrExit(args.profile, args.strict);
    if (args.json) {
      // The VRRP password, and the hook lines, which may carry credentials (the bootstrap
      // script is 0700 and logs them by number for that reason): each line becomes (redacted).
      const hidden = (lines: string[]) => lines.map(() => '(redacted)');
      const redacted = {
        ...plan,
        keepalived: { ...plan.keepalived, ...(plan.keepalived.authPass !== undefined ? { authPass: '(redacted)' } : {}) },
        kubernetes: { ...plan.kubernetes, preKubeadmCommands: hidden(plan.kubernetes.preKubeadmCommands), postKubeadmCommands: hidden(plan.kubernetes.postKubeadmCommands) },
      };
      const listed = warnings.map((w) => ({ code: CODES[w.code], path: w.path.join('.'), message: w.message }));
      process.stdout.write(`${JSON.stringify({ plan: redacted, warnings: listed }, null, 2)}\n`);
      return;
    }
    const rows = [[...NODE_HEADER, 'UNICAST PEERS']];
    for (const n of plan.nodes) rows.push([...nodeCells(n), n.vrrp?.peers.join(', ') ?? '-']);
    process.stdout.write(
      `k8s-ha: profile ${args.profile} is valid: cluster ${plan.name}, Kubernetes ${plan.kubernetes.version}\n${vipLine(plan)}\n` +
        `HAProxy ${plan.haproxy.image}: checks every ${plan.haproxy.checkIntervalMs} ms, connect timeout ${plan.haproxy.connectTimeoutMs} ms; keepalived ${plan.keepalived.image}\n` +
        `${table(rows)}\n${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`,
    );
  },
};

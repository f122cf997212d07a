/**
 * `k8s-ha check [PROFILE]`: validates and prints the resolved plan and warnings; writes nothing.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CODES, formatPath, type Problem } from '../profile/errors.js';
import type { Hook, Plan } from '../model.js';
import { CliError, countLine, loadOrExit, readProfileArg, NODE_HEADER, nodeCells, type ProfileArgs, table, vipLine, withProfile, profileName } from './common.js';

interface CheckArgs extends ProfileArgs {
  json: boolean;
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check [profile]',
  describe: 'Validate a profile and print the resolved plan and warnings (writes nothing)',
  builder: (y: Argv) =>
    withProfile(y)
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document: valid, the plan (secrets redacted), warnings and problems (code, path, line, col, message, hint); also when the profile is invalid' }) as unknown as Argv<CheckArgs>,
  handler: async (args: ArgumentsCamelCase<CheckArgs>) => {
    if (args.json) {
      const loaded = await readProfileArg(args.profile, args.profileFormat);
      // --strict: every warning is an error, in the document as in the text report.
      const problems = !loaded.ok ? loaded.problems : args.strict ? loaded.warnings.map((p): Problem => ({ ...p, severity: 'error' })) : [];
      const warnings = loaded.ok && !args.strict ? loaded.warnings : [];
      const valid = loaded.ok && problems.length === 0;
      const doc = { valid, source: loaded.source, ...(loaded.ok ? { plan: redact(loaded.plan) } : {}), warnings: warnings.map(jsonProblem), problems: problems.map(jsonProblem) };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      if (!valid) throw new CliError(countLine(problems));
      return;
    }
    const { plan, warnings } = await loadOrExit(args.profile, args.strict, args.profileFormat);
    const rows = [[...NODE_HEADER, 'UNICAST PEERS']];
    for (const n of plan.nodes) rows.push([...nodeCells(n), n.vrrp?.peers.join(', ') ?? '-']);
    process.stdout.write(
      `k8s-ha: profile ${profileName(args.profile)} is valid: cluster ${plan.name}, Kubernetes ${plan.kubernetes.version}\n${vipLine(plan)}\n` +
        `HAProxy ${plan.haproxy.image}: checks every ${plan.haproxy.checkIntervalMs} ms, connect timeout ${plan.haproxy.connectTimeoutMs} ms; keepalived ${plan.keepalived.image}\n` +
        `${table(rows)}\n${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`,
    );
  },
};

/**
 * The plan as `check --json` prints it: the VRRP password, and the hook lines, which may carry
 * credentials (the bootstrap script is 0700 and logs them by number for that reason), each
 * replaced by `(redacted)`.
 */
function redact(plan: Plan): unknown {
  const hidden = (hooks: Hook[]) => hooks.map((h) => ({ ...h, run: '(redacted)' }));
  return {
    ...plan,
    keepalived: { ...plan.keepalived, ...(plan.keepalived.authPass !== undefined ? { authPass: '(redacted)' } : {}) },
    kubernetes: { ...plan.kubernetes, preKubeadmCommands: hidden(plan.kubernetes.preKubeadmCommands), postKubeadmCommands: hidden(plan.kubernetes.postKubeadmCommands) },
  };
}

/**
 * A problem in `check --json`: `code` (E014), `name` (E_FORMAT), `severity`, `path` (as the
 * text report writes it: nodes[1].address), `line`/`col` (1-based) when known, `message`, `hint`.
 * Messages never hold a secret value (profile/report.ts showValue).
 */
function jsonProblem(p: Problem): Record<string, unknown> {
  return {
    code: CODES[p.code],
    name: p.code,
    severity: p.severity,
    path: formatPath(p.path),
    ...(p.line !== undefined ? { line: p.line, col: p.col ?? 1 } : {}),
    message: p.message,
    ...(p.hint !== undefined ? { hint: p.hint } : {}),
  };
}

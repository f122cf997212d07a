/**
 * `k8s-ha lab [PROFILE] [--json FILE] [--scenario NAME ...]`: applies the profile's outputs with
 * the real cloud-init and Ignition, runs the real keepalived and HAProxy in network namespaces
 * and measures failover (src/lab/). Linux and root only. Exit 0 when every scenario meets its
 * bound, 1 when one does not or the lab cannot run.
 */
import { LAB_SCENARIOS as SCENARIOS } from '../model.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CliError, loadOrExit, type ProfileArgs, withProfile } from './common.js';
import { clusterSecrets, secretsOptions, type SecretsArgs } from './secrets.js';

interface LabArgs extends ProfileArgs, SecretsArgs {
  json?: string;
  logs?: string;
  scenario?: (typeof SCENARIOS)[number][];
}

export const labCommand: CommandModule<object, LabArgs> = {
  command: 'lab [profile]',
  describe: 'Prove failover: run the outputs with the real keepalived and HAProxy in network namespaces (Linux, root)',
  builder: (y: Argv) =>
    withProfile(y)
      .option('json', { type: 'string', describe: 'also write the results as JSON to this file' })
      .option('logs', { type: 'string', describe: 'write the logs of keepalived, HAProxy, the apiservers and the lab itself, time-stamped, under this directory' })
      .option('scenario', { type: 'array', choices: SCENARIOS, describe: 'run only these scenarios (converge always runs first)' })
      .options(secretsOptions) as unknown as Argv<LabArgs>,
  handler: async (args: ArgumentsCamelCase<LabArgs>) => {
    const { plan } = await loadOrExit(args.profile, args.strict, args.profileFormat);
    const [{ renderNodes: renderCluster, createSecrets }, { runLab, preflight, LabError }, { reportTable, reportJson }] = await Promise.all([
      import('../index.js'), import('../lab/lab.js'), import('../lab/report.js'),
    ]);
    let report;
    try {
      // Before the secrets: a lab that cannot run (not Linux, not root) must not make or rotate them.
      await preflight();
      // The lab's cluster lives for one run: without --secrets its secrets stay in memory, so no
      // secrets file is left beside the profile (in a source tree, where npm pack would ship it).
      const secrets = args.secrets === undefined && !args.rotate ? await createSecrets() : await clusterSecrets(args, plan);
      report = await runLab(plan, renderCluster(plan, secrets), { scenarios: args.scenario, logsDir: args.logs, log: (l) => process.stderr.write(`${l}\n`) });
    } catch (e) {
      if (e instanceof LabError) throw new CliError(e.message);
      throw e;
    }
    process.stdout.write(`${reportTable(report)}\n`);
    if (args.json) await (await import('../sinks/atomic.js')).writeFileAtomic(args.json, reportJson(report), 0o644);
    if (report.scenarios.some((s) => !s.passed)) throw new CliError(`k8s-ha lab: ${report.scenarios.filter((s) => !s.passed).map((s) => s.name).join(', ')} missed their bounds`);
  },
};

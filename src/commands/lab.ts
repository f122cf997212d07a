/**
 * `k8s-ha lab [PROFILE] [--json FILE] [--report FILE] [--repeat N] [--scenario NAME ...]`: applies the profile's outputs with
 * the real cloud-init and Ignition, runs the real keepalived and HAProxy in network namespaces
 * and measures failover (src/lab/). Linux and root only. Exit 0 when every scenario meets its
 * bound, 1 when one does not or the lab cannot run.
 */
import { LAB_ROLLOUT_SCENARIOS, LAB_SCENARIOS as SCENARIOS } from '../model.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CliError, loadOrExit, type ProfileArgs, withProfile } from './common.js';
import { clusterSecrets, secretsOptions, type SecretsArgs } from './secrets.js';

interface LabArgs extends ProfileArgs, SecretsArgs {
  json?: string;
  logs?: string;
  report?: string;
  repeat: number;
  scenario?: ((typeof SCENARIOS)[number] | (typeof LAB_ROLLOUT_SCENARIOS)[number])[];
  rolloutTo?: string;
}

export const labCommand: CommandModule<object, LabArgs> = {
  command: 'lab [profile]',
  describe: 'Prove failover: run the outputs with the real keepalived and HAProxy in network namespaces (Linux, root)',
  builder: (y: Argv) =>
    withProfile(y)
      .option('json', { type: 'string', describe: 'also write the results as JSON to this file' })
      .option('logs', { type: 'string', describe: 'write the logs of keepalived, HAProxy, the apiservers and the lab itself, time-stamped, under this directory' })
      .option('report', { type: 'string', describe: 'also write a self-contained HTML report with a timeline per scenario run to this file' })
      .option('repeat', { type: 'number', default: 1, describe: 'run the scenarios N times and report per scenario passed/failed, outage p50/p95/max' })
      .check((a) => {
        if (!Number.isInteger(a.repeat) || a.repeat < 1 || a.repeat > 1000) throw new Error(`--repeat: expected a whole number from 1 to 1000, got ${String(a.repeat)}`);
        return true;
      })
      .option('scenario', { type: 'array', choices: [...SCENARIOS, ...LAB_ROLLOUT_SCENARIOS], describe: `run only these scenarios (converge always runs first; ${LAB_ROLLOUT_SCENARIOS.join(' and ')} need --rollout-to and run only when named)` })
      .option('rollout-to', { type: 'string', describe: 'profile B for the rollout scenarios: same control-plane nodes and VIPs, other timing, ports or checks; its update scripts run in the node namespaces' })
      .check((a) => {
        if ((a.scenario ?? []).some((s) => (LAB_ROLLOUT_SCENARIOS as readonly string[]).includes(String(s))) && a.rolloutTo === undefined) throw new Error(`--scenario ${LAB_ROLLOUT_SCENARIOS.join('/')}: needs --rollout-to PROFILE_B`);
        return true;
      })
      .options(secretsOptions) as unknown as Argv<LabArgs>,
  handler: async (args: ArgumentsCamelCase<LabArgs>) => {
    const { plan } = await loadOrExit(args.profile, args.strict, args.profileFormat);
    const [{ renderNodes: renderCluster, createSecrets }, { runLab, preflight }, { reportTable, reportJson, summaryTable, reportHtml }] = await Promise.all([
      import('../index.js'), import('../lab/lab.js'), import('../lab/report.js'),
    ]);
    // Before the secrets: a lab that cannot run (not Linux, not root) must not make or rotate them.
    await preflight();
    // The lab proves k8s-ha's own files: the user's content and SSH users, which cloud-init
    // and Ignition merge on a real node, stay out of its comparison of the two formats.
    const ownFiles = (p: typeof plan) => ({ ...p, nodes: p.nodes.map(({ userContent, ssh, ...n }) => n) });
    const own = ownFiles(plan);
    // The lab's cluster lives for one run: without --secrets its secrets stay in memory, so no
    // secrets file is left beside the profile (in a source tree, where npm pack would ship it).
    const secrets = args.secrets === undefined && !args.rotate ? await createSecrets() : await clusterSecrets(args, plan);
    let rolloutTo;
    if (args.rolloutTo !== undefined) {
      const ownB = ownFiles((await loadOrExit(args.rolloutTo, args.strict, args.profileFormat)).plan);
      rolloutTo = { plan: ownB, rendered: renderCluster(ownB, secrets) };
    }
    const report = await runLab(own, renderCluster(own, secrets), { scenarios: args.scenario, logsDir: args.logs, repeat: args.repeat, rolloutTo, log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(`${reportTable(report)}\n${summaryTable(report)}\n`);
    const { writeFileAtomic } = await import('../sinks/atomic.js');
    if (args.json) await writeFileAtomic(args.json, reportJson(report), 0o644);
    if (args.report) {
      const vrrpNodes = plan.nodes.filter((n) => n.vrrp).map((n) => n.name);
      await writeFileAtomic(args.report, reportHtml(report, vrrpNodes, plan.vip.addresses), 0o644);
    }
    const failed = report.summary.filter((s) => s.failed > 0);
    if (failed.length) throw new CliError(`k8s-ha lab: ${failed.map((s) => (report.runs > 1 ? `${s.name} (${s.failed} of ${s.runs} runs)` : s.name)).join(', ')} missed their bounds`);
  },
};

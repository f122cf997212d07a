#!/usr/bin/env node
/**
 * k8s-ha command line: wires the command modules into yargs. Usage errors exit 2, profile
 * errors exit 1 with every problem listed, never a stack trace for expected failures.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { bundleCommand } from './commands/bundle.js';
import { checkCommand } from './commands/check.js';
import { CliError, EXIT_USAGE } from './commands/common.js';
import { labCommand } from './commands/lab.js';
import { renderCommand } from './commands/render.js';
import { schemaCommand } from './commands/schema.js';
import { seedCommand } from './commands/seed.js';

async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('k8s-ha')
    .usage('$0 <command> [profile] [options]\n\nGenerate cloud-init and Ignition for a highly available kubeadm control plane (keepalived VIP + HAProxy static pods).')
    .command(renderCommand)
    .command(checkCommand)
    .command(bundleCommand)
    .command(seedCommand)
    .command(labCommand)
    .command(schemaCommand)
    .demandCommand(1, 'k8s-ha: name a command (render, check, bundle, seed, lab, schema)')
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      if (err) throw err;
      throw new CliError(`${msg}\nRun k8s-ha --help for usage.`, EXIT_USAGE);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((e: unknown) => {
  if (e instanceof CliError) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = e.exitCode;
    return;
  }
  process.stderr.write(`k8s-ha: internal error: ${(e as Error)?.stack ?? String(e)}\nPlease report this with the profile that caused it.\n`);
  process.exitCode = 70;
});

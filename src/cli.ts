/**
 * k8s-ha command line: wires the command modules into yargs. Usage errors exit 2, profile
 * errors exit 1 with every problem listed, never a stack trace for expected failures.
 *
 * Two ways through yargs, same commands, same options, same messages:
 * - `k8s-ha <command> ...` (the command name first, as every example writes it): that one
 *   command module is the default command (`$0 [profile]`) of a yargs instance named
 *   `k8s-ha <command>`. yargs renders the whole help text before it runs any non-default
 *   command, in case the handler fails later (yargs build/lib/command.js,
 *   `cacheHelpMessage()`); measuring string widths for it costs ~20 ms on every run, more than
 *   a render of three nodes.
 * - anything else (no command, `--help`, `--version`, options before the command, a typo):
 *   every command registered under its name, for the overview help and the error listing the
 *   commands.
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { ProblemError } from './profile/errors.js';
import { bundleCommand } from './commands/bundle.js';
import { checkCommand } from './commands/check.js';
import { CliError, countLine, EXIT_INPUT, EXIT_USAGE, STDIN_PATH } from './commands/common.js';
import { diffCommand } from './commands/diff.js';
import { initCommand } from './commands/init.js';
import { rolloutCommand } from './commands/rollout.js';
import { labCommand } from './commands/lab.js';
import { renderCommand } from './commands/render.js';
import { schemaCommand } from './commands/schema.js';
import { seedCommand } from './commands/seed.js';

/**
 * Every command, in the order `k8s-ha --help` lists them. (`any`: each module types its own
 * parsed arguments, and a handler's parameter type cannot widen to a common one.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
const COMMANDS: readonly CommandModule<object, any>[] = [initCommand, renderCommand, checkCommand, bundleCommand, seedCommand, labCommand, schemaCommand, diffCommand, rolloutCommand];

/**
 * The package version, read from this package's own package.json (dist/src/cli.js is two
 * levels below it). Given to yargs explicitly: yargs' own lookup searches upwards from the
 * working directory and can find another project's package.json.
 */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const ABOUT = 'Generate cloud-init and Ignition for a highly available kubeadm control plane (keepalived VIP + HAProxy static pods).';

/** The name a command module is invoked by: the first word of its `command` string. */
function commandName(c: CommandModule<object, unknown>): string {
  return String(c.command).split(' ')[0]!;
}

/**
 * Settings both ways share: strict options, --help, --version, usage errors as CliError (exit
 * 2) that point at the help of `name` (`k8s-ha seed`: that command's options, not the overview).
 */
function common<T>(y: Argv<T>, name = 'k8s-ha'): Argv<T> {
  return y
    .strict()
    .help()
    .version(VERSION)
    .fail((msg, err) => {
      // yargs' own errors (YError: a failed coerce, a bad choice) are usage errors; anything
      // else was thrown by a command handler and goes on as it is.
      if (err && err.name !== 'YError') throw err;
      throw new CliError(`${msg ?? err?.message}\nRun ${name} --help for usage.`, EXIT_USAGE);
    });
}

/**
 * Runs the CLI on `argv` (the arguments after the program name).
 * @throws ProblemError for bad input or a machine that cannot do the job (the caller prints
 *   its report and exits 1), CliError for usage errors and the commands' own failures (printed,
 *   exit with its code); anything else is an internal error.
 */
export async function run(argv: string[]): Promise<void> {
  // A lone `-` (the Unix spelling of standard input) would reach the command as an empty flag.
  const dashdash = argv.indexOf('--');
  argv = argv.map((a, i) => (a === '-' && (dashdash < 0 || i < dashdash) ? STDIN_PATH : a));
  const cmd = COMMANDS.find((c) => commandName(c) === argv[0]);
  if (cmd) {
    const name = commandName(cmd);
    await common(yargs(argv.slice(1)).scriptName(`k8s-ha ${name}`), `k8s-ha ${name}`)
      .command({ ...cmd, command: String(cmd.command).replace(/^\S+/, '$0') })
      .parseAsync();
    return;
  }
  let y = yargs(argv).scriptName('k8s-ha').usage(`$0 <command> [profile] [options]\n\n${ABOUT}`);
  for (const c of COMMANDS) y = y.command(c);
  await common(y)
    .demandCommand(1, `k8s-ha: name a command (${COMMANDS.map(commandName).join(', ')})`)
    .parseAsync();
}

/**
 * Runs the CLI on `argv` (the arguments after the program name), prints what went wrong and
 * sets the exit code; never throws.
 */
function main(argv: string[]): Promise<void> {
  return run(argv).catch((e: unknown) => {
    // The one place problems become an exit code: every report ends with its count.
    if (e instanceof ProblemError) {
      process.stderr.write(`${e.message}\n${countLine(e.problems)}\n`);
      process.exitCode = EXIT_INPUT;
      return;
    }
    if (e instanceof CliError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    // A file system error (EACCES, ENOSPC, EEXIST... on --out or a profile path) is about the
    // user's input and machine, not a bug: its message names the call and the path.
    if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      process.stderr.write(`k8s-ha: ${e.message}\n`);
      process.exitCode = EXIT_INPUT;
      return;
    }
    process.stderr.write(`k8s-ha: internal error: ${(e as Error)?.stack ?? String(e)}\nPlease report this with the profile that caused it.\n`);
    process.exitCode = 70;
  });
}

/**
 * What bin/k8s-ha runs: {@link main} on `argv` (the arguments after the program name); the
 * exit code is set on `process.exitCode` and node exits when the command's work is done.
 */
export function runAndExit(argv: string[]): void {
  void main(argv);
}

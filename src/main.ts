/**
 * Entry point of the shipped CLI bundle (dist/k8s-ha.cjs, see scripts/bundle.mjs): runs
 * the CLI on this process's arguments ({@link runAndExit}).
 */
import { runAndExit } from './cli.js';

runAndExit(process.argv.slice(2));

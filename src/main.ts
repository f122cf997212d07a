/**
 * Entry point of the shipped CLI bundle (dist/k8s-ha.cjs, see scripts/bundle.mjs): runs
 * {@link main} on this process's arguments.
 */
import { main } from './cli.js';

void main(process.argv.slice(2));

/**
 * Bundle benchmark: time and peak RSS of `buildBundle` for the bundle test profile's three
 * control-plane nodes plus 100 and plus 1,000 generated workers. Each size runs in its own
 * Node process so that peak RSS (getrusage ru_maxrss) belongs to that size alone.
 *
 *   node dist/bench/bundle.js            # both sizes, one line each
 *   node dist/bench/bundle.js 1000       # one size, JSON on stdout (used by the scale test)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../src/bundle/build.js';
import { fleetPlan } from './fleet.js';
import { generateSecrets } from '../src/secrets/store.js';

/** One measurement: nodes in the bundle, wall time (ms), archive bytes, peak RSS (MiB). */
export interface BundleBench {
  nodes: number;
  ms: number;
  bytes: number;
  peakRssMiB: number;
}

const profile = fileURLToPath(new URL('../../test/fixtures/bundle.toml', import.meta.url));

async function measure(workers: number): Promise<BundleBench> {
  const secrets = await generateSecrets();
  const plan = fleetPlan(profile, workers);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-bench-'));
  try {
    const out = join(dir, 'bundle.tar.gz');
    const start = performance.now();
    await buildBundle(plan, { out, secrets });
    const ms = Math.round(performance.now() - start);
    return { nodes: plan.nodes.length, ms, bytes: statSync(out).size, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one size in a fresh Node process and returns its measurement. */
export function benchBundle(workers: number): BundleBench {
  const self = fileURLToPath(import.meta.url);
  return JSON.parse(execFileSync(process.execPath, [self, String(workers)], { encoding: 'utf8' })) as BundleBench;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg !== undefined) {
    process.stdout.write(`${JSON.stringify(await measure(Number(arg)))}\n`);
  } else {
    for (const workers of [100, 1000]) {
      const r = benchBundle(workers);
      process.stdout.write(`bundle: ${r.nodes} nodes in ${r.ms} ms, ${(r.bytes / 1024).toFixed(0)} KiB archive, peak RSS ${r.peakRssMiB} MiB\n`);
    }
  }
}

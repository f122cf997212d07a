/**
 * Bundle benchmark: time and peak RSS of `buildBundle` for the bundle test profile's three
 * control-plane nodes plus 100 and plus 1,000 generated workers. Each size runs in its own
 * Node process so that peak RSS (getrusage ru_maxrss) belongs to that size alone.
 *
 *   node dist/bench/bundle.js            # both sizes, one line each
 *   node dist/bench/bundle.js 1000       # one size, JSON on stdout (used by the scale test)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { buildBundle } from '../src/bundle/build.js';
import { fleetPlan } from './fleet.js';
import { generateSecrets } from '../src/secrets/store.js';

/**
 * One measurement: nodes in the bundle, wall time (ms), archive bytes (gzip) and tar bytes
 * (uncompressed), peak RSS (MiB), and the peak live heap (MiB): the largest `heapUsed` right
 * after a full garbage collection, sampled every 10 ms while the bundle is built. RSS depends on
 * how lazily V8 returns memory (it grew by 35-53 MiB between the sizes on a loaded machine);
 * the live heap is what the build still holds, so a bundle that kept every rendered node would
 * show its whole tar size there.
 */
export interface BundleBench {
  nodes: number;
  ms: number;
  bytes: number;
  tarBytes: number;
  peakRssMiB: number;
  peakLiveHeapMiB: number;
}

const MiB = 1024 * 1024;

const profile = fileURLToPath(new URL('../../test/fixtures/bundle.toml', import.meta.url));

async function measure(workers: number, liveHeap: boolean): Promise<BundleBench> {
  const secrets = await generateSecrets();
  const plan = fleetPlan(profile, workers);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-bench-'));
  try {
    const out = join(dir, 'bundle.tar.gz');
    const gc = liveHeap ? (globalThis as { gc?: () => void }).gc : undefined;
    let peakLive = 0;
    const sample = () => { gc?.(); peakLive = Math.max(peakLive, process.memoryUsage().heapUsed); };
    const sampler = gc === undefined ? undefined : setInterval(sample, 10);
    const start = performance.now();
    await buildBundle(plan, { out, secrets });
    const ms = Math.round(performance.now() - start);
    clearInterval(sampler);
    const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    const tarBytes = gunzipSync(readFileSync(out)).length;
    return { nodes: plan.nodes.length, ms, bytes: statSync(out).size, tarBytes, peakRssMiB, peakLiveHeapMiB: Math.round(peakLive / MiB) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs one size in a fresh Node process and returns its measurement. With `liveHeap` the child
 * runs with `--expose-gc` and samples the live heap (the forced collections slow the build, so
 * its `ms` is then not the user's time); without it `peakLiveHeapMiB` is 0.
 */
export function benchBundle(workers: number, liveHeap = false): BundleBench {
  const self = fileURLToPath(import.meta.url);
  const args = liveHeap ? ['--expose-gc', self, String(workers), 'live-heap'] : [self, String(workers)];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as BundleBench;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg !== undefined) {
    process.stdout.write(`${JSON.stringify(await measure(Number(arg), process.argv[3] === 'live-heap'))}\n`);
  } else {
    for (const workers of [100, 1000]) {
      const r = { ...benchBundle(workers), peakLiveHeapMiB: benchBundle(workers, true).peakLiveHeapMiB };
      process.stdout.write(`bundle: ${r.nodes} nodes in ${r.ms} ms, ${(r.bytes / 1024).toFixed(0)} KiB archive, peak RSS ${r.peakRssMiB} MiB, peak live heap ${r.peakLiveHeapMiB} MiB\n`);
    }
  }
}

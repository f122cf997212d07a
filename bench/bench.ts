/**
 * `npm run bench`: start-up and render speed as ratios, not absolute times.
 * Renders profiles/seed.toml (all formats, all nodes) through the compiled CLI several times
 * and prints the median wall time as a ratio to a bare `node -e 0` measured in the same run,
 * interleaved so machine noise hits both alike. Target: ratio <= 1.5.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

function timeMs(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const out = mkdtempSync(join(tmpdir(), 'k8s-ha-bench-'));
try {
  const bare: number[] = [];
  const render: number[] = [];
  const cli = join(ROOT, 'bin', 'k8s-ha.cjs');
  timeMs([cli, 'render', 'profiles/seed.toml', '--out', out]); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    bare.push(timeMs(['-e', '0']));
    render.push(timeMs([cli, 'render', 'profiles/seed.toml', '--out', out, '--format', 'all']));
  }
  const b = median(bare);
  const r = median(render);
  console.log(`bench: ${RUNS} runs each, medians`);
  console.log(`  node -e 0                               ${b.toFixed(1)} ms`);
  console.log(`  k8s-ha render profiles/seed.toml (all)  ${r.toFixed(1)} ms`);
  console.log(`render/bare ratio: ${(r / b).toFixed(2)} (target <= 1.50)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

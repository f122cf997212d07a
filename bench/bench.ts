/**
 * `npm run bench`: start-up and render speed as ratios, not absolute times.
 *
 * Runs the CLI as users run it, the package's bin `bin/k8s-ha` (node started from the CLI's
 * startup snapshot, dist/k8s-ha.blob), and measures wall time of each command below, interleaved
 * with a bare `node -e 0` in the same loop so machine noise hits both alike. Prints medians,
 * the lower quartile, and each median as a ratio to bare node's median. The issue's target:
 * `render profiles/seed.toml` (all formats, all nodes) at or below 1.5. It is measured both
 * ways a repeated render goes: into the same --out, where the output is unchanged and render
 * writes nothing (src/sinks/atomic.ts), and with output that changes on every run, so that
 * the whole tree is written, fsynced and replaced each time.
 *
 * Also measured, for context: the same render through the plain bundle (K8S_HA_NO_SNAPSHOT=1,
 * what runs when the snapshot does not fit this node), a YAML profile, `check`, `--version`
 * (start-up alone) and `render --help`.
 *
 *   BENCH_RUNS=61 npm run bench   # more runs, steadier medians (default 31)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 31);
const BIN = join(ROOT, 'bin', 'k8s-ha');

interface Case {
  label: string;
  file: string;
  args: string[];
  env?: Record<string, string>;
  /** Arguments added on every other run. */
  alternate?: string[];
}

/** Wall time in ms of one run of `c`; odd runs (`run`) add `c.alternate`. */
function timeMs(c: Case, run = 0): number {
  const args = c.alternate && run % 2 === 1 ? [...c.args, ...c.alternate] : c.args;
  const env: Record<string, string | undefined> = { ...process.env, ...c.env };
  if (!c.env?.K8S_HA_NO_SNAPSHOT) delete env.K8S_HA_NO_SNAPSHOT;
  delete env.NODE_OPTIONS; // V8 flags there would make node refuse the snapshot
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.file, args, { cwd: ROOT, stdio: 'ignore', env });
  if (r.status !== 0) throw new Error(`${c.file} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;

const out = mkdtempSync(join(tmpdir(), 'k8s-ha-bench-'));
try {
  // The test fixture's secrets, copied with mode 0600 as k8s-ha writes a secrets file (git
  // checks it out 0644, which would add warning W108 to every measured run).
  const secretsFile = join(out, 'test.secrets.json');
  copyFileSync(join(ROOT, 'fixtures', 'secrets', 'test.secrets.json'), secretsFile);
  chmodSync(secretsFile, 0o600);
  const secrets = ['--secrets', secretsFile];
  const seed: Case = { label: 'render profiles/seed.toml (all)', file: BIN, args: ['render', 'profiles/seed.toml', '--out', join(out, 'seed'), '--format', 'all', ...secrets] };
  // The same render, but its output always differs from the last run's (the Ignition spec
  // version alternates), so every run writes, fsyncs and replaces the whole tree.
  const changing: Case = { label: 'same, output changed (rewritten)', file: BIN, args: ['render', 'profiles/seed.toml', '--out', join(out, 'changing'), '--format', 'all', ...secrets], alternate: ['--ignition-version', '3.4.0'] };
  const cases: Case[] = [
    { label: 'node -e 0', file: process.execPath, args: ['-e', '0'] },
    seed,
    changing,
    { ...seed, label: 'same, plain bundle (no snapshot)', env: { K8S_HA_NO_SNAPSHOT: '1' } },
    { label: 'render profiles/example.yaml (all)', file: BIN, args: ['render', 'profiles/example.yaml', '--out', join(out, 'example'), ...secrets] },
    { label: 'check profiles/seed.toml', file: BIN, args: ['check', 'profiles/seed.toml'] },
    { label: '--version', file: BIN, args: ['--version'] },
    { label: 'render --help', file: BIN, args: ['render', '--help'] },
  ];
  for (const c of cases) timeMs(c, 1); // warm the file cache (as an odd run: run 0 then changes the output)
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => times[j]!.push(timeMs(c, i)));
  const bare = quantile(times[0]!, 0.5);
  console.log(`bench: ${RUNS} interleaved runs each; wall time in ms; ratio = median / bare node's median`);
  console.log(`  ${'command'.padEnd(40)} ${'median'.padStart(7)} ${'q1'.padStart(7)} ${'ratio'.padStart(6)}`);
  cases.forEach((c, j) => {
    const med = quantile(times[j]!, 0.5);
    console.log(`  ${(c.file === BIN ? `k8s-ha ${c.label}` : c.label).padEnd(40)} ${med.toFixed(1).padStart(7)} ${quantile(times[j]!, 0.25).toFixed(1).padStart(7)} ${(med / bare).toFixed(2).padStart(6)}`);
  });
  const ratio = (j: number): string => (quantile(times[j]!, 0.5) / bare).toFixed(2);
  console.log(`render/bare ratio: ${ratio(1)} when the output is unchanged (nothing written), ${ratio(2)} when it changed (tree rewritten); target <= 1.50`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

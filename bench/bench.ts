/**
 * `npm run bench`: what a CLI run costs against a bare `node -e 0`, as wall time in ms.
 *
 * Runs the CLI as users run it, the package's bin `bin/k8s-ha`, and measures each command
 * below, interleaved with a bare `node -e 0` in the same loop so that machine noise hits
 * every command alike. Prints medians, the lower quartile, and each median as a ratio to
 * bare node's median. A render is run into the same --out each time (output unchanged), and
 * with output that changes on every run (the Ignition spec version alternates), so that the
 * whole tree is written, fsynced and replaced.
 *
 * K8S_HA_BENCH_OTHER=/path/to/another/checkout adds the same seed render through that
 * checkout's bin/k8s-ha to the same interleaved loop (how the README's before/after figures
 * were taken).
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
const OTHER = process.env.K8S_HA_BENCH_OTHER;

interface Case {
  label: string;
  file: string;
  args: string[];
  /** Arguments added on every other run. */
  alternate?: string[];
}

/** Wall time in ms of one run of `c`; odd runs (`run`) add `c.alternate`. */
function timeMs(c: Case, run = 0): number {
  const args = c.alternate && run % 2 === 1 ? [...c.args, ...c.alternate] : c.args;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.file, args, { cwd: ROOT, stdio: 'ignore' });
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
  const seedArgs = (dir: string) => ['render', join(ROOT, 'profiles', 'seed.toml'), '--out', join(out, dir), '--format', 'all', ...secrets];
  const cases: Case[] = [
    { label: 'node -e 0', file: process.execPath, args: ['-e', '0'] },
    { label: 'render profiles/seed.toml (all)', file: BIN, args: seedArgs('seed') },
    ...(OTHER ? [{ label: `same, through ${OTHER}`, file: join(OTHER, 'bin', 'k8s-ha'), args: seedArgs('other') }] : []),
    { label: 'same, output changed (rewritten)', file: BIN, args: seedArgs('changing'), alternate: ['--ignition-version', '3.4.0'] },
    { label: 'render profiles/example.yaml (all)', file: BIN, args: ['render', 'profiles/example.yaml', '--out', join(out, 'example'), ...secrets] },
    { label: 'check profiles/seed.toml', file: BIN, args: ['check', 'profiles/seed.toml'] },
    { label: '--version', file: BIN, args: ['--version'] },
  ];
  for (const c of cases) timeMs(c, 1); // warm the file cache (as an odd run: run 0 then changes the output)
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => times[j]!.push(timeMs(c, i)));
  const bare = quantile(times[0]!, 0.5);
  console.log(`bench: ${RUNS} interleaved runs each; wall time in ms; ratio = median / bare node's median`);
  console.log(`  ${'command'.padEnd(48)} ${'median'.padStart(7)} ${'q1'.padStart(7)} ${'ratio'.padStart(6)}`);
  cases.forEach((c, j) => {
    const med = quantile(times[j]!, 0.5);
    console.log(`  ${(c.file === BIN ? `k8s-ha ${c.label}` : c.label).padEnd(48)} ${med.toFixed(1).padStart(7)} ${quantile(times[j]!, 0.25).toFixed(1).padStart(7)} ${(med / bare).toFixed(2).padStart(6)}`);
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}

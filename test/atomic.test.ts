import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProblemError } from '../src/profile/errors.js';
import { linkExisting, recoverTree, writeFileAtomic, writeTreeAtomic, type TreeFile } from '../src/sinks/atomic.js';
import { isTreeFile, treeFor } from './helpers/atomic-writer.js';
import { readTree } from './helpers/files.js';
import { testDir } from './helpers/tools.js';

test('a changed tree keeps the inode and mtime of every file that did not change; changed ones are new', async (t) => {
  const out = join(scratch(t), 'out');
  const tree = treeFor(1);
  await writeTreeAtomic(out, tree, isTreeFile);
  const before = new Map(tree.map((f) => [f.path, statSync(join(out, f.path))]));
  const [a, ...rest] = tree;
  const next: TreeFile[] = [{ ...a!, content: `${String(a!.content)}!` }, ...rest];
  t.deepEqual(await writeTreeAtomic(out, next, isTreeFile), { written: true, changed: [a!.path] });
  t.deepEqual(snapshot(out), expected(next));
  t.not(statSync(join(out, a!.path)).ino, before.get(a!.path)!.ino);
  for (const f of rest) {
    const st = statSync(join(out, f.path));
    t.is(st.ino, before.get(f.path)!.ino, `${f.path} was rewritten`);
    t.is(st.mtimeMs, before.get(f.path)!.mtimeMs);
    t.is(st.nlink, 1, `${f.path} still linked from the previous tree`);
  }
  t.deepEqual(readdirSync(join(out, '..')), ['out']);
});

test('linkExisting: where link(2) cannot work (another filesystem), false and nothing created', (t) => {
  const to = join(scratch(t), 'version');
  t.false(linkExisting('/proc/version', to)); // EXDEV: /proc is its own filesystem
  t.false(existsSync(to));
  writeFileSync(`${to}.src`, 'x');
  t.true(linkExisting(`${to}.src`, to));
  t.is(statSync(to).ino, statSync(`${to}.src`).ino);
  t.throws(() => linkExisting(join(scratch(t), 'missing'), join(scratch(t), 'x')), { code: 'ENOENT' });
});

const WRITER = fileURLToPath(new URL('./helpers/atomic-writer.js', import.meta.url));

const scratch = (t: { teardown(fn: () => void): void }): string => testDir(t, 'k8s-ha-atomic-');

/** Every regular file under `dir` as "relpath mode content", sorted. */
const snapshot = (dir: string): string[] => [...readTree(dir)].map(([rel, f]) => `${rel} ${f.mode.toString(8)} ${f.content}`);
const expected = (files: TreeFile[]): string[] =>
  files.map((f) => `${f.path} ${f.mode.toString(8)} ${Buffer.from(f.content).toString('utf8')}`).sort();

/** A pid that certainly belonged to a process that has exited. */
const deadPid = (): number => spawnSync('true').pid!;

// process.umask is process-wide and ava runs a file's tests concurrently: the tests that change
// it run serially (ava runs serial tests before the concurrent ones).
test.serial('writes the tree with exact modes whatever the umask, and replaces the previous one', async (t) => {
  const out = join(scratch(t), 'a', 'out', 'seed');
  const old = process.umask(0o077);
  try {
    await writeTreeAtomic(out, treeFor(1), isTreeFile);
    t.deepEqual(snapshot(out), expected(treeFor(1)));
  } finally {
    process.umask(old);
  }
  process.umask(0);
  try {
    await writeTreeAtomic(out, treeFor(2).slice(0, 5), isTreeFile);
    t.deepEqual(snapshot(out), expected(treeFor(2).slice(0, 5))); // nothing of gen 1 is left
    t.is((statSync(join(out, 'node1/user-data')).mode & 0o777).toString(8), '600');
  } finally {
    process.umask(old);
  }
  t.deepEqual(readdirSync(join(out, '..')), ['seed']);
});

test('rejects bad relative paths before writing anything', async (t) => {
  const out = join(scratch(t), 'out');
  for (const path of ['/etc/passwd', '../x', 'a/../../x', 'a//b', './a', '', 'a\0b'])
    await t.throwsAsync(writeTreeAtomic(out, [{ path, content: 'x', mode: 0o644 }], isTreeFile), { message: /invalid relative path/ });
  await t.throwsAsync(
    writeTreeAtomic(out, [{ path: 'a', content: 'x', mode: 0o644 }, { path: 'a', content: 'y', mode: 0o644 }], isTreeFile),
    { message: /duplicate path "a"/ },
  );
  t.false(existsSync(out));
});

test('a failing write leaves the previous tree and no temporary', async (t) => {
  const base = scratch(t);
  const out = join(base, 'out');
  await writeTreeAtomic(out, treeFor(1), isTreeFile);
  // A file and a directory at the same place cannot both exist: mkdir fails mid-write.
  await t.throwsAsync(writeTreeAtomic(out, [{ path: 'x', content: '', mode: 0o644 }, { path: 'x/y', content: '', mode: 0o644 }], isTreeFile));
  t.deepEqual(snapshot(out), expected(treeFor(1)));
  t.deepEqual(readdirSync(base), ['out']);
});

test('stale leftovers: dead runs are cleaned, an interrupted swap is finished, live runs are ignored', (t) => {
  const base = scratch(t);
  const out = join(base, 'out');
  const make = (name: string, marker: string): void => {
    mkdirSync(join(base, name));
    writeFileSync(join(base, name, 'marker'), marker);
  };
  // Killed between the two renames: no `out`, complete old and new trees with one suffix.
  const dead = deadPid();
  make(`out.old-${dead}-0123456789abcdef`, 'previous');
  make(`out.tmp-${dead}-0123456789abcdef`, 'new');
  make(`out.tmp-${dead}-fedcba9876543210`, 'partial of another dead run');
  make('out.tmp-1-00000000000000aa', 'pid 1 is alive: not ours to touch');
  make('other.tmp-1-00000000000000aa', 'another output');
  recoverTree(out);
  t.is(readFileSync(join(out, 'marker'), 'utf8'), 'new');
  t.deepEqual(readdirSync(base).sort(), ['other.tmp-1-00000000000000aa', 'out', 'out.tmp-1-00000000000000aa']);
  // Only the old tree left (cannot happen with writeTreeAtomic, but never lose the output).
  rmSync(out, { recursive: true });
  make(`out.old-${dead}-00000000000000bb`, 'previous');
  recoverTree(out);
  t.is(readFileSync(join(out, 'marker'), 'utf8'), 'previous');
});

test('leftovers of a killed subtree write inside the output (render --node) are finished, then replaced', async (t) => {
  const out = join(scratch(t), 'out');
  await writeTreeAtomic(out, treeFor(1), isTreeFile);
  // `render --node node1` killed between its two renames: no node1, its old and new trees.
  const dead = deadPid();
  rmSync(join(out, 'node1'), { recursive: true });
  for (const [kind, marker] of [['old', 'previous'], ['tmp', 'new']] as const) {
    mkdirSync(join(out, `node1.${kind}-${dead}-0123456789abcdef`));
    writeFileSync(join(out, `node1.${kind}-${dead}-0123456789abcdef`, 'user-data'), marker, { mode: 0o600 });
  }
  // and a dead partial write of node2 beside the intact node2
  mkdirSync(join(out, `node2.tmp-${dead}-fedcba9876543210`));
  const r = await writeTreeAtomic(out, treeFor(1), isTreeFile);
  t.true(r.written);
  t.deepEqual(r.changed, ['node1/config.ign', 'node1/etc/keepalived/check_apiserver.sh', 'node1/meta-data', 'node1/user-data'], 'node1 was rolled forward to the killed write, then rewritten');
  t.deepEqual(snapshot(out), expected(treeFor(1)));
  t.false(readdirSync(out).some((e) => e.includes('.tmp-') || e.includes('.old-')));
});

test.serial('writeFileAtomic: exact mode from creation, replaces content, cleans dead temporaries', async (t) => {
  const base = scratch(t);
  const f = join(base, 'sub', 'seed.secrets.json');
  const old = process.umask(0);
  try {
    await writeFileAtomic(f, '{"authPass":"a"}', 0o600);
    writeFileSync(`${f}.tmp-${deadPid()}-0123456789abcdef`, 'stale');
    await writeFileAtomic(f, new TextEncoder().encode('{"authPass":"b"}'), 0o600);
  } finally {
    process.umask(old);
  }
  t.is(readFileSync(f, 'utf8'), '{"authPass":"b"}');
  t.is(statSync(f).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(join(base, 'sub')), ['seed.secrets.json']);
});

/** Runs the writer child for generation `gen`; kills it `killAfterMs` after it is ready. */
function runWriter(out: string, gen: number, killAfterMs?: number): Promise<{ ms: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, out, String(gen)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let ready = 0;
    child.stdout.on('data', (d: Buffer) => {
      if (!ready && d.toString().startsWith('ready')) {
        ready = performance.now();
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ ms: performance.now() - ready, killed: true });
      else if (code === 0) resolve({ ms: performance.now() - ready, killed: false });
      else reject(new Error(`writer exited with ${code ?? signal}`));
    });
  });
}

test('SIGKILL at random moments: the output is always the previous or the new complete tree', async (t) => {
  const base = scratch(t);
  const out = join(base, 'out');
  // Calibrate: how long a full write takes here, so kills land before, during and after it.
  // The estimate follows the machine: every run that finished unkilled adds its time, and the
  // span is the median of the last five (a write measured while the suite was starting up can
  // take 10x longer than one later on, and a span calibrated on it lands every kill too late).
  const times: number[] = [];
  for (let gen = 0; gen < 3; gen++) times.push((await runWriter(out, gen)).ms);
  const span = () => [...times.slice(-5)].sort((a, b) => a - b)[Math.floor(Math.min(times.length, 5) / 2)]! * 1.3;
  let complete = 2; // generation now in `out`
  let killedMidway = 0;
  let swapsDone = 0;
  let runs = 0;
  // 50 runs, and up to 100 more while fewer than 5 kills have landed inside a write.
  for (let gen = 3; gen < 53 || (killedMidway < 5 && gen < 153); gen++) {
    // Evenly spread over the span (not random): every 50 runs cover before, during, after.
    const delay = ((((gen - 3) % 50) + 0.5) / 50) * span();
    const { killed, ms } = await runWriter(out, gen, delay);
    runs++;
    if (!killed) times.push(ms);
    if (!existsSync(out)) {
      // The documented window between the two renames: both trees must be complete.
      const left = readdirSync(base);
      const old = left.find((e) => e.startsWith('out.old-'));
      t.truthy(old, `run ${gen} killed after ${delay.toFixed(1)} ms: out missing without .old (${left})`);
      t.deepEqual(snapshot(join(base, old!)), expected(treeFor(complete)));
      recoverTree(out);
      t.deepEqual(snapshot(out), expected(treeFor(gen)));
      t.log(`run ${gen}: killed inside the rename window, recovered forward`);
    }
    const now = snapshot(out);
    if (now.join('\n') === expected(treeFor(gen)).join('\n')) {
      complete = gen;
      swapsDone++;
    } else t.deepEqual(now, expected(treeFor(complete)), `run ${gen} killed after ${delay.toFixed(1)} ms: partial output`);
    if (killed && complete !== gen) killedMidway++;
  }
  // The next run cleans every leftover of the killed ones.
  await runWriter(out, 99);
  t.deepEqual(snapshot(out), expected(treeFor(99)));
  t.deepEqual(readdirSync(base), ['out']);
  t.log(`${runs} runs: full write ${Math.round(span() / 1.3)} ms (median of the last five), ${killedMidway} killed before the swap, ${swapsDone} swapped`);
  t.true(killedMidway >= 5, 'the kills must land inside the write often enough to mean something');
});

test('refuses to replace anything that is not an earlier output of the same kind', async (t) => {
  const root = scratch(t);
  const home = join(root, 'home');
  mkdirSync(join(home, 'node1'), { recursive: true });
  writeFileSync(join(home, 'node1', 'user-data'), 'old');
  writeFileSync(join(home, 'thesis.txt'), 'years of work');
  await t.throwsAsync(writeTreeAtomic(home, treeFor(1), isTreeFile), { instanceOf: ProblemError, message: /home: error E071 at --out: holds thesis\.txt, which this output would not write/ });
  t.is(readFileSync(join(home, 'thesis.txt'), 'utf8'), 'years of work');
  const file = join(root, 'file');
  writeFileSync(file, 'x');
  await t.throwsAsync(writeTreeAtomic(file, treeFor(1), isTreeFile), { instanceOf: ProblemError, message: /file: error E071 at --out: exists and is not a directory/ });
  t.is(readFileSync(file, 'utf8'), 'x');
  t.deepEqual(readdirSync(root).sort(), ['file', 'home'], 'no temporary left');
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await writeTreeAtomic(empty, treeFor(1), isTreeFile);
  t.deepEqual(snapshot(empty), expected(treeFor(1)));
});

// Serial: the fd count is per process, and concurrent tests open and close their own.
test.serial('many files in nested directories: written, replaced, no fd or directory left behind', async (t) => {
  const base = scratch(t);
  const out = join(base, 'out');
  const many = (gen: number, n: number): TreeFile[] =>
    Array.from({ length: n }, (_, i) => ({ path: `node${i % 7}/d${i % 3}/f${i}`, content: `gen ${gen} file ${i}`, mode: i % 2 ? 0o600 : 0o644 }));
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  await writeTreeAtomic(out, many(1, 200), () => true);
  t.deepEqual(snapshot(out), expected(many(1, 200)));
  await writeTreeAtomic(out, many(2, 130), () => true); // fewer files: directories of gen 1 go too
  t.deepEqual(snapshot(out), expected(many(2, 130)));
  t.deepEqual(readdirSync(base), ['out']);
  t.is(fds(), before);
});

test('the same tree again: nothing written, files untouched; otherwise the changed paths are listed', async (t) => {
  const out = join(scratch(t), 'out');
  const first = await writeTreeAtomic(out, treeFor(1), isTreeFile);
  t.deepEqual(first, { written: true, changed: treeFor(1).map((f) => f.path).sort() });
  const ino = statSync(join(out, 'node1/user-data')).ino;
  t.deepEqual(await writeTreeAtomic(out, treeFor(1), isTreeFile), { written: false, changed: [] });
  t.is(statSync(join(out, 'node1/user-data')).ino, ino);
  // One file with other bytes, one with another mode, one gone, one new.
  const [a, b, c, ...rest] = treeFor(1);
  const next: TreeFile[] = [{ ...a!, content: `${String(a!.content)}!` }, { ...b!, mode: b!.mode ^ 0o044 }, ...rest, { path: 'node9/new', content: 'n', mode: 0o644 }];
  const r = await writeTreeAtomic(out, next, isTreeFile);
  t.deepEqual(r, { written: true, changed: [a!.path, b!.path, c!.path, 'node9/new'].sort() });
  t.deepEqual(snapshot(out), expected(next));
  // Same bytes behind a symlink is not the same tree: it becomes a regular file again.
  rmSync(join(out, rest[0]!.path));
  writeFileSync(join(out, 'elsewhere'), String(rest[0]!.content));
  symlinkSync(join(out, 'elsewhere'), join(out, rest[0]!.path));
  t.true((await writeTreeAtomic(out, next, (p) => isTreeFile(p) || p === 'elsewhere')).written);
  t.deepEqual(snapshot(out), expected(next));
});

/**
 * `k8s-ha lab`: proves a profile's outputs fail over. Renders every node, applies each with
 * the real cloud-init and Ignition and compares the trees (apply.ts), builds the isolated
 * network (netns.ts), runs stand-in apiservers and the outputs' static pods (apiserver.ts,
 * kubelet.ts), then the scenarios (scenarios.ts). Everything it creates (namespaces, mount
 * namespaces, processes, its work directory under /var/tmp) is removed at the end, also on
 * failure and on SIGINT/SIGTERM; what an earlier, killed run left is removed at the start.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { findExecutable, pidAlive } from '../system.js';
import { fail } from '../profile/errors.js';
import { LAB_ROLLOUT_SCENARIOS, type LabRolloutScenarioName, type NodeUnit, type Plan } from '../model.js';
import type { RenderedNode } from '../render.js';
import { IGNITION_BIN, applyCloudInit, applyIgnition, diffTrees, payloadTree, readTree, type Tree } from './apply.js';
import { makeCert } from './apiserver.js';
import { LabCluster, type LabNode } from './cluster.js';
import { readStaticPods } from './kubelet.js';
import { buildTopology, labNamespaces, removeStale, PREFIX, SYSTEM_PATH } from './netns.js';
import { killAllDaemons, labProcesses, nowMs, refuseNewDaemons, run, takeStartedDaemons, type Daemon } from './proc.js';
import { SCENARIOS, runScenario, type ScenarioName, type ScenarioResult } from './scenarios.js';
import { handoverBoundMs, haproxyMarkDownMs, haproxyMarkUpMs } from './bounds.js';
import { rolloutProfileProblem, runRolloutScenario } from './rollout.js';
import { summarize, type ScenarioSummary } from './stats.js';
import { outageBoundText } from './report.js';
import { HAPROXY_CFG } from '../components/haproxy.js';

/** Result of a lab run; `scenarios` rows follow the issue's JSON contract. */
export interface LabReport {
  profile: string;
  /** VRRP advert_int, seconds. */
  advertInterval: number;
  vrrpVersion: 2 | 3;
  /** Longest overlap of two VIP holders that is a handover, not a split brain, ms. */
  handoverBoundMs: number;
  /** How many times the scenarios ran (`--repeat`). */
  runs: number;
  /** Every run of every scenario, in the order they ran (`run` says which). */
  scenarios: ScenarioResult[];
  /** Per scenario over all runs: counts, outage p50/p95/max, failed requests, overlaps. */
  summary: ScenarioSummary[];
  /** Wall time of the whole run, ms. */
  wallMs: number;
}

/** Throws a failure of the lab itself (not a scenario missing its bound): problem E074 about the machine. */
function labFail(message: string, hint?: string): never {
  fail('E_LAB', [], message, hint, 'k8s-ha', '');
}

const WORK_PREFIX = '/var/tmp/k8sha-lab-';
const LOCK = '/run/k8sha-lab.pid';

/** Programs the lab runs, with the Debian package that provides each. */
const TOOLS: [string, string][] = [
  ['ip', 'iproute2'], ['unshare', 'util-linux'], ['mount', 'mount'], ['cloud-init', 'cloud-init'], [IGNITION_BIN, 'ignition'],
  ['keepalived', 'keepalived'], ['haproxy', 'haproxy'], ['curl', 'curl'], ['openssl', 'openssl'], ['nft', 'nftables'],
  ['arping', 'iputils-arping'],
];

/** A passed {@link preflight} of this process, shared by its later callers. */
let checked: Promise<void> | undefined;

/**
 * Checks that the lab can run here: Linux, root, every program present. Once it has passed
 * it is not repeated in this process (the lab command checks before making secrets, then
 * {@link runLab} again for callers that use the library directly); a failure is not kept, so
 * a caller that installs the missing tool or fixes PATH can check again.
 * @throws ProblemError (E074) naming what is missing and the apt-get command that installs it.
 */
export function preflight(): Promise<void> {
  checked ??= checkMachine().catch((e: unknown) => {
    checked = undefined;
    throw e;
  });
  return checked;
}

async function checkMachine(): Promise<void> {
  if (process.platform !== 'linux') labFail(`k8s-ha lab needs Linux (network namespaces); this is ${process.platform}`);
  if (process.getuid?.() !== 0) labFail('k8s-ha lab needs root (it creates network namespaces and mounts); run it with sudo');
  const path = [process.env.PATH ?? '', '/usr/sbin', '/sbin'].join(delimiter);
  const missing: [string, string][] = [];
  // nft only from the system's directories (netns.ts: node_modules/.bin has another `nft`).
  for (const t of TOOLS) if ((await findExecutable(t[0], t[0] === 'nft' ? SYSTEM_PATH : path)) === undefined) missing.push(t);
  if (missing.length) {
    labFail(`the lab needs ${missing.map((m) => m[0]).join(', ')}: not found on PATH, /usr/sbin or /sbin`, `apt-get install -y ${[...new Set(missing.map((m) => m[1]))].join(' ')}`);
  }
}

/**
 * Takes the machine-wide lab lock (one lab at a time: they share names and addresses): the
 * lock file is created exclusively; one left by a dead run is removed and taken again.
 */
async function lock(): Promise<void> {
  for (;;) {
    try {
      await writeFile(LOCK, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = Number(await readFile(LOCK, 'utf8').catch(() => ''));
    if (other === process.pid) return;
    if (other && pidAlive(other)) labFail(`another k8s-ha lab runs (pid ${other}, ${LOCK}); wait for it or stop it`);
    await rm(LOCK, { force: true });
  }
}

/** Removes what an earlier, killed lab run left: namespaces (with their processes) and work dirs. */
async function removeLeftovers(): Promise<void> {
  await removeStale();
  for (const d of await workDirs()) await rm(d, { recursive: true, force: true });
}

/** The lab's work directories under /var/tmp (this run's and killed runs'). */
async function workDirs(): Promise<string[]> {
  return (await readdir('/var/tmp')).map((d) => `/var/tmp/${d}`).filter((d) => d.startsWith(WORK_PREFIX));
}

/** Options of {@link runLab}. */
export interface LabOptions {
  /** Scenarios to run, in {@link SCENARIOS} order (default: all). */
  scenarios?: (ScenarioName | LabRolloutScenarioName)[];
  /** Progress messages (default: none). */
  log?: (line: string) => void;
  /**
   * Directory to write the processes' logs to, for diagnosis: `<node>/<container>.log` and
   * `<node>/apiserver.log` (whole output), `client/probe.log` and `<node>/ip-monitor.log`
   * (stderr only: their stdout is the lab's data), each line stamped with seconds since the lab
   * started, plus `lab.log` with the progress messages on the same clock. Written at teardown,
   * also when the lab fails.
   */
  logsDir?: string;
  /**
   * Profile B and its render (with A's secrets) for the rollout scenarios (src/lab/rollout.ts),
   * which run after the others of each run when {@link scenarios} names them.
   */
  rolloutTo?: { plan: Plan; rendered: RenderedNode[] };
  /** Run the scenarios this many times (default 1); converge starts every run from cold. */
  repeat?: number;
  /**
   * False makes the split brain `partition` provokes a failure (a negative control proving
   * the lab fails a real split brain); default true.
   */
  expectSplitBrain?: boolean;
}

/**
 * Writes the transcripts of `daemons` and the progress lines under `dir` (see
 * {@link LabOptions.logsDir}); times are seconds since `t0` (ms since the epoch).
 */
export async function writeLabLogs(dir: string, t0: number, daemons: Daemon[], progress: { t: number; line: string }[]): Promise<void> {
  const stamp = (t: number) => `+${((t - t0) / 1000).toFixed(3)}s`;
  const files = new Map<string, string[]>([['lab.log', progress.map((p) => `${stamp(p.t)} ${p.line}`)]]);
  for (const d of daemons) {
    const parts = d.label.split('/');
    const file = join(parts[0]!, `${parts.at(-1)}.log`);
    const lines = files.get(file) ?? [];
    lines.push(`${stamp(d.startedAt)} [k8s-ha lab: started ${d.label}]`, ...d.transcript.map((l) => `${stamp(l.t)} ${l.line}`));
    files.set(file, lines);
  }
  for (const [file, lines] of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), `${lines.join('\n')}\n`);
  }
}

/**
 * Applies every node's output with cloud-init and Ignition under `work` and checks that the
 * two trees equal each other and the payload. Returns each node's cloud-init root.
 * @throws ProblemError (E074) listing every difference.
 */
async function applyAll(rendered: RenderedNode[], work: string): Promise<Map<string, string>> {
  const roots = new Map<string, string>();
  const problems: string[] = [];
  for (const r of rendered) {
    const dir = join(work, 'nodes', r.node.name);
    const ciRoot = join(dir, 'root-cloud-init');
    const ignRoot = join(dir, 'root-ignition');
    await applyCloudInit(r.userData, r.payload.files, ciRoot, join(dir, 'cloud-init'));
    await applyIgnition(r.ignition, ignRoot, join(dir, 'ignition'));
    const [ci, ign] = [await readTree(ciRoot), await readTree(ignRoot)];
    problems.push(...takeUnits(ign, r.payload.units).map((d) => `${r.node.name}: ${d}`));
    const diff = [...diffTrees('cloud-init', ci, 'ignition', ign), ...diffTrees('cloud-init', ci, 'payload', payloadTree(r.payload.files))];
    problems.push(...diff.map((d) => `${r.node.name}: ${d}`));
    roots.set(r.node.name, ciRoot);
  }
  if (problems.length) labFail(`the applied outputs differ:\n  ${problems.join('\n  ')}`);
  return roots;
}

/**
 * Ignition installs the payload's systemd units (cloud-init runs the same work from runcmd
 * instead): checks each unit file and Ignition's preset line for enabled units, then removes
 * them from `ign` so the rest compares file for file with cloud-init's tree.
 * @returns one line per difference.
 */
function takeUnits(ign: Tree, units: readonly NodeUnit[]): string[] {
  const problems: string[] = [];
  const preset = 'etc/systemd/system-preset/20-ignition.preset';
  const presetText = ign.get(preset)?.content.toString('utf8') ?? '';
  for (const u of units) {
    const path = `etc/systemd/system/${u.name}`;
    const got = ign.get(path)?.content.toString('utf8');
    if (got !== u.contents) problems.push(`/${path}: ${got === undefined ? 'not installed by Ignition' : 'content differs from the payload'}`);
    if (u.enabled && !presetText.split('\n').includes(`enable ${u.name}`)) problems.push(`/${preset}: no "enable ${u.name}"`);
    ign.delete(path);
  }
  ign.delete(preset);
  return problems;
}

/**
 * Runs the lab for `plan` (rendered as `rendered`). Needs root on Linux (see {@link preflight}).
 * @throws ProblemError (E074) when the lab itself cannot run (missing tool, outputs differ, a static pod
 *   exits at once, the cluster never becomes healthy); scenario failures are in the report.
 */
export async function runLab(plan: Plan, rendered: RenderedNode[], opts: LabOptions = {}): Promise<LabReport> {
  // Before anything runs: a rollout scenario needs profile B, and B must fit the namespaces built from A.
  const rollout = LAB_ROLLOUT_SCENARIOS.find((s) => opts.scenarios?.includes(s));
  if (rollout && !opts.rolloutTo) labFail(`scenario ${rollout} needs --rollout-to PROFILE_B`);
  const problem = opts.rolloutTo && rolloutProfileProblem(plan, opts.rolloutTo.plan);
  if (problem) labFail(problem);
  const started = nowMs();
  const progress: { t: number; line: string }[] = [];
  const log = (line: string) => {
    progress.push({ t: nowMs(), line });
    opts.log?.(line);
  };
  takeStartedDaemons(); // forget daemons of an earlier run in this process
  refuseNewDaemons(false); // an earlier run's teardown refused them
  await preflight();
  await lock();
  let cluster: LabCluster | undefined;
  let work: string | undefined;
  let tornDown: Promise<void> | undefined;
  // Once, whether the run ends or a signal comes first: every process the lab started is
  // reaped (killAllDaemons waits for each, found by the lab's mark) before it returns.
  const teardown = () => (tornDown ??= (async () => {
    refuseNewDaemons(true);
    await cluster?.shutdown().catch(() => {});
    await killAllDaemons();
    const daemons = takeStartedDaemons();
    if (opts.logsDir) await writeLabLogs(opts.logsDir, started, daemons, progress).catch((e) => opts.log?.(`cannot write the logs to ${opts.logsDir}: ${(e as Error).message}`));
    await removeStale();
    await killAllDaemons(); // what was still inside the namespaces
    if (work) await rm(work, { recursive: true, force: true });
    await rm(LOCK, { force: true });
  })());
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: tearing the lab down`);
    void teardown().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await removeLeftovers();
    work = await mkdtemp(WORK_PREFIX);
    const cps = rendered.filter((r) => r.node.vrrp);
    if (cps.length < 2) labFail(`the lab needs at least two control-plane nodes; ${plan.source} has ${cps.length}`);
    log(`applying ${rendered.length} nodes with cloud-init and Ignition`);
    const roots = await applyAll(rendered, work);
    log(`building namespaces ${PREFIX}*`);
    const topo = await buildTopology({
      nodes: cps.map((r) => ({
        name: r.node.name, address: r.node.address, prefix: r.node.prefix, iface: r.node.interface,
        ...(r.node.secondaryAddress !== undefined ? { secondary: { address: r.node.secondaryAddress, prefix: r.node.secondaryPrefix } } : {}),
      })),
      vips: plan.vip.addresses,
    });
    const cert = await makeCert(work);
    const nodes: LabNode[] = [];
    for (const [i, r] of cps.entries()) {
      nodes.push({ plan: r.node, net: topo.nodes[i]!, specs: await readStaticPods(roots.get(r.node.name)!), containers: [], linkUp: true, root: roots.get(r.node.name)! });
    }
    const haproxyCfg = await readFile(join(roots.get(cps[0]!.node.name)!, HAPROXY_CFG), 'utf8').catch(() => '');
    cluster = new LabCluster(plan, topo, nodes, cert);
    await cluster.watch.start();
    const results: ScenarioResult[] = [];
    const wanted = opts.scenarios?.length ? SCENARIOS.filter((s) => opts.scenarios!.includes(s)) : [...SCENARIOS];
    if (wanted[0] !== 'converge') wanted.unshift('converge'); // every scenario needs a converged cluster
    const runs = Math.max(1, opts.repeat ?? 1);
    const announce = (name: string, run: number) => log(`scenario ${name}${runs > 1 ? ` (run ${run}/${runs})` : ''}`);
    const record = (run: number, res: ScenarioResult) => {
      res.run = run;
      log(`  ${res.passed ? 'ok' : 'FAILED'}: outage ${res.outageMs} ms (bound ${outageBoundText(res)}), ${res.failed}/${res.total} failed, VIP ${res.holderBefore ?? '-'} -> ${res.holderAfter ?? '-'}${res.notes.length ? `; ${res.notes.join('; ')}` : ''}`);
      results.push(res);
    };
    for (let i = 1; i <= runs; i++) {
      for (const name of wanted) {
        announce(name, i);
        record(i, await runScenario(cluster, name, { markDownMs: haproxyMarkDownMs(haproxyCfg, plan), markUpMs: haproxyMarkUpMs(haproxyCfg, plan), expectSplitBrain: opts.expectSplitBrain, work }));
      }
      for (const name of LAB_ROLLOUT_SCENARIOS.filter((s) => opts.scenarios?.includes(s))) {
        announce(name, i);
        record(i, await runRolloutScenario(cluster, name, { planA: plan, renderedA: rendered, planB: opts.rolloutTo!.plan, renderedB: opts.rolloutTo!.rendered, roots, work, log }));
      }
    }
    return {
      profile: plan.source, advertInterval: plan.keepalived.advertInterval, vrrpVersion: plan.keepalived.vrrpVersion,
      handoverBoundMs: Math.round(handoverBoundMs(plan)), runs, scenarios: results, summary: summarize(results), wallMs: Math.round(nowMs() - started),
    };
  } catch (e) {
    // What the lab's parts throw about the machine (a command that failed, a static pod that
    // exited, a cluster that never got healthy) is a problem (a failed command already is,
    // E070); a programming error (TypeError, RangeError...) stays what it is.
    if (e instanceof Error && e.constructor === Error) labFail(e.message);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  }
}

/**
 * What a lab left on the machine (for tests and CI): its namespaces, work directories, and
 * every process that carries the lab's mark (whatever its name: keepalived, HAProxy, a track
 * script) or names the lab's helpers. `labPid` limits the processes to the lab run by that
 * process (another lab may run meanwhile once this one released the lock; its namespaces and
 * work directory are then not counted).
 */
export async function leftovers(labPid?: number): Promise<string[]> {
  const marked = await labProcesses(labPid);
  // Namespaces and work directories carry no pid: another lab that holds the lock now owns them.
  const holder = Number(await readFile(LOCK, 'utf8').catch(() => ''));
  if (labPid !== undefined && holder && holder !== labPid && pidAlive(holder)) return marked.map((p) => `process ${p.pid} ${p.args}`);
  const named = labPid !== undefined ? [] : (await run(['ps', '-eo', 'pid,args'])).split('\n')
    // A `flock` queued on a lock file named after the lab is not the lab (helpers and CI
    // wrappers queue that way); what it runs once it gets the lock is counted like any other.
    .filter((l) => /k8sha-lab-|apiserver-main|probe-main|k8s-ha-pod/.test(l) && !l.includes('ps -eo') && !/^\s*\d+\s+flock\s/.test(l))
    .filter((l) => !marked.some((p) => p.pid === Number(l.trim().split(' ')[0])));
  return [...(await labNamespaces()).map((n) => `namespace ${n}`), ...marked.map((p) => `process ${p.pid} ${p.args}`),
    ...named.map((p) => `process ${p.trim()}`), ...(await workDirs()).map((d) => `directory ${d}`)];
}

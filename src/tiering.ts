/**
 * V8's compiling tiers above the interpreter (Sparkplug baseline code, TurboFan optimised
 * code) for a CLI run that is mostly short.
 *
 * A render of a few nodes runs its JavaScript for ~20 ms, mostly once per function, and
 * compiling hot functions a second time costs more than it saves. Measured here (interleaved
 * runs, medians; `render` of profiles/seed.toml plus N workers, all formats, output unchanged):
 *
 * | nodes | both tiers on | both off |
 * | --- | --- | --- |
 * | 3 (seed.toml, 61 runs) | 86.0 ms | 83.7 ms |
 * | 13 | 91.0 ms | 89.3 ms |
 * | 33 | 108.6 ms | 102.2 ms |
 * | 103 | 144.5 ms | 147.4 ms |
 * | 303 | 231.6 ms | 275.4 ms |
 *
 * (Node.js 20, whose V8 11.3 has Maglev, the tier between them, off.) So the shipped entry
 * points switch both tiers off at start ({@link startInterpreted}) and back on once the plan
 * has more than {@link TIERS_FROM_NODES} nodes, or for a long-running command
 * ({@link enableTiers}). The flags go through node's `v8.setFlagsFromString`; V8 reads
 * `--sparkplug` and `--turbofan` each time it decides whether to compile a function up, so a
 * change applies from the next decision on (Node.js docs warn that changing flags after start
 * may behave unpredictably in general; these two are read at each use, not cached;
 * test/tiering.test.ts checks the effect with V8's own optimisation status).
 *
 * Maglev is left as node set it: its default differs between node releases (on in 22.0-22.8,
 * off again from 22.9 for miscompilations, per node's changelog), and there is no way to read
 * a V8 flag back to restore it. Tiers chosen on node's command line or in NODE_OPTIONS
 * (`--no-turbofan`, `--jitless`...) are never changed.
 * The CLI's output is the same either way: only speed changes.
 */
import { setFlagsFromString } from 'node:v8';

/** V8 flags that choose tiers; given by the user, they turn this module off. */
const TIER_FLAG = /^--(no-)?(sparkplug|turbofan|opt|jitless|maglev|always-sparkplug|always-turbofan|always-opt)(=|$)/;

/** True when node's command line or NODE_OPTIONS sets any of the tiers itself. */
function userChoseTiers(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => TIER_FLAG.test(a));
}

/** Plans with more nodes than this (control plane and workers) get both tiers back. */
export const TIERS_FROM_NODES = 50;

/**
 * Switches Sparkplug and TurboFan off for this process (the CLI's entry points, at start),
 * unless node's command line or NODE_OPTIONS chose tiers.
 */
export function startInterpreted(): void {
  if (userChoseTiers()) return;
  setFlagsFromString('--no-sparkplug');
  setFlagsFromString('--no-turbofan');
}

/** Switches Sparkplug and TurboFan back on (V8's defaults), unless the user chose tiers. */
export function enableTiers(): void {
  if (userChoseTiers()) return;
  setFlagsFromString('--sparkplug');
  setFlagsFromString('--turbofan');
}

/** {@link enableTiers} when a plan of `nodes` nodes is large enough to pay for them. */
export function tiersForPlan(nodes: number): void {
  if (nodes > TIERS_FROM_NODES) enableTiers();
}

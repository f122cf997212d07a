/**
 * Failover as statistics: per scenario, over every run of `k8s-ha lab --repeat N`, the
 * passed/failed counts, the outage's p50/p95/max, the failed requests and the longest
 * handover overlap (issue #14).
 */
import type { ScenarioName, ScenarioResult } from './scenarios.js';

/** One scenario over all its runs; times in ms. */
export interface ScenarioSummary {
  name: ScenarioResult["name"];
  runs: number;
  passed: number;
  failed: number;
  /** Outage percentiles (nearest rank) and maximum over the runs, ms. */
  outageMs: { p50: number; p95: number; max: number };
  /** The same per VIP (dual stack: per family), keyed by the VIP. */
  outageByVipMs: Record<string, { p50: number; p95: number; max: number }>;
  /** Failed requests: all runs together, and the most in one run. */
  failedRequests: { total: number; max: number };
  /** Longest overlap that was a handover (within the handover bound), ms. */
  longestHandoverMs: number;
  /** Runs with a split brain (expected ones, from partition or freeze, included). */
  splitBrainRuns: number;
}

/** The `p`-th percentile (0-100) of `values` by nearest rank (0 for none). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Summaries of `results` per scenario, in the order the scenarios first appear. */
export function summarize(results: ScenarioResult[]): ScenarioSummary[] {
  const names = [...new Set(results.map((r) => r.name))];
  return names.map((name) => {
    const rs = results.filter((r) => r.name === name);
    const outages = rs.map((r) => r.outageMs);
    const stats = (v: number[]) => ({ p50: percentile(v, 50), p95: percentile(v, 95), max: Math.max(...v) });
    const vips = [...new Set(rs.flatMap((r) => Object.keys(r.outageByVipMs)))];
    return {
      name,
      runs: rs.length,
      passed: rs.filter((r) => r.passed).length,
      failed: rs.filter((r) => !r.passed).length,
      outageMs: stats(outages),
      outageByVipMs: Object.fromEntries(vips.map((v) => [v, stats(rs.map((r) => r.outageByVipMs[v] ?? 0))])),
      failedRequests: { total: rs.reduce((n, r) => n + r.failed, 0), max: Math.max(...rs.map((r) => r.failed)) },
      longestHandoverMs: Math.max(0, ...rs.flatMap((r) => r.overlaps.filter((o) => !o.splitBrain).map((o) => o.ms))),
      splitBrainRuns: rs.filter((r) => r.overlaps.some((o) => o.splitBrain)).length,
    };
  });
}

import type { Plan, PlanNode } from '../src/model.js';

/**
 * `plan` plus `workers` generated worker nodes (role `worker`, no VRRP, a MAC each, DHCP),
 * standing in for `[[workers]]` profiles until the profile schema has them. Addresses are in
 * 198.18.0.0/15 (benchmarking range, RFC 2544): 198.18.1.0 onwards.
 */
export function fleetPlan(plan: Plan, workers: number): Plan {
  const extra: PlanNode[] = Array.from({ length: workers }, (_, i) => {
    const n = i + 256;
    return {
      name: `worker-${String(i + 1).padStart(4, '0')}`,
      index: plan.nodes.length + i,
      role: 'worker',
      address: `198.18.${n >> 8}.${n & 0xff}`,
      prefix: 15,
      interface: 'eth0',
      mac: `52:54:01:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`,
    };
  });
  return { ...plan, nodes: [...plan.nodes, ...extra] };
}

/**
 * HAProxy: the VIP's port, balanced over every apiserver with TLS /healthz checks.
 */
import type { NodeFile, Plan } from '../model.js';
import { renderHaproxy, word, type Section } from './conf.js';
import { bracketIp } from '../profile/values.js';

export const HAPROXY_DIR = '/etc/haproxy';
export const HAPROXY_CFG = `${HAPROXY_DIR}/haproxy.cfg`;

/**
 * The HAProxy container's command (argv): master-worker mode (`-W`) in the foreground with
 * haproxy.cfg. With `keepalived.trackProcess`, which keepalived's vrrp_track_process matches by
 * this exact command line (keepalived.ts), two changes:
 * - it ends in `-L <node name>` (HAProxy's local peer name, used only by a `peers` section,
 *   which haproxy.cfg has none of): with hostPID keepalived sees every process of the node, so
 *   the node's name makes the match this HAProxy's alone (not another HAProxy on the node; in
 *   the lab, where the nodes share one machine's process table, not another node's);
 * - no `-W`: one process, no worker. A master forks its worker and then re-executes itself
 *   (HAProxy 2.6: a second exec event of the same pid), and keepalived 2.2.7 counts a process
 *   twice when such events arrive while it first reads /proc (it adds the fork's child again,
 *   core/track_process.c check_process_fork), so after HAProxy died one phantom process kept
 *   the quorum: measured in the lab, 3 of 6 haproxy-dies runs where keepalived started while
 *   HAProxy forked never saw the quorum lost (the track script moved the VIP ~1 s later). A
 *   single process forks nothing; a static pod never reloads in place (a new config restarts
 *   the pod), so master-worker's seamless reload is not used.
 * @param nodeName the control-plane node's name (used with trackProcess only).
 */
export function haproxyCommand(plan: Plan, nodeName: string): string[] {
  if (!plan.keepalived.trackProcess) return ['haproxy', '-W', '-db', '-f', HAPROXY_CFG];
  return ['haproxy', '-db', '-f', HAPROXY_CFG, '-L', word(nodeName, 'haproxy command')];
}

/** Frontend and backend names: distinct (the same name for both is an error from HAProxy 3.3). */
export const FRONTEND = 'k8s-api';
export const BACKEND = 'k8s-apiservers';

/**
 * haproxy.cfg (the same on every control-plane node):
 * - `frontend k8s-api` binds `*:vip.port` (IPv4) or `:::vip.port v4v6` (IPv6, dual stack: every
 *   VIP of both families) in TCP mode:
 *   no `ip_nonlocal_bind` needed, and never the apiserver's port (kubeadm's Port-6443 check).
 * - `backend k8s-apiservers`: one server per control-plane node, named after the node (unique:
 *   duplicate names are fatal since HAProxy 2.0), checked with HTTPS GET /healthz expecting 200
 *   (`http-check connect ssl`, `verify none`: the apiserver's cert is not known here).
 * - Fast failure handling: `timeout connect` (default 500 ms) with `retries 3` and
 *   `option redispatch 1` moves a connection to another server at once when one does not
 *   answer; checks every `inter` (default 1 s), down after 2 failures, up after 2 successes.
 * - Passive checks: `observe layer4 error-limit 1 on-error mark-down` marks a server down on
 *   the first failed client connection, not after 2 checks (up to ~2.5 s). Measured in the lab
 *   (advert_int 0.2 s, crash of the VIP holder): without it the new holder's HAProxy kept
 *   sending a third of new connections to the dead node for ~2 s after the VIP moved (9
 *   client timeouts > 1 s after the VIP settled); with it, none.
 * - Idle timeouts >= 35 s (default 1 h) so `kubectl logs -f`/`exec`/watches are not cut
 *   (kubernetes/kubeadm#2227).
 * - Logs to stdout (`log stdout format raw`): a container has no /dev/log.
 */
export function haproxyCfg(plan: Plan): NodeFile {
  const h = plan.haproxy;
  const w = (v: string | number) => word(v, 'haproxy.cfg');
  // IPv6 or dual stack: `:::port v4v6` accepts on the VIPs of both families (no ip_nonlocal_bind needed).
  const bind = plan.family === 4 && plan.secondaryFamily === undefined ? [`*:${w(plan.vip.port)}`] : [`:::${w(plan.vip.port)}`, 'v4v6'];
  const ms = (n: number) => `${w(n)}ms`;
  const servers = plan.nodes
    .filter((n) => n.role !== 'worker')
    .map((n) => ({
      words: ['server', w(n.name), `${bracketIp(w(n.address))}:${w(plan.kubernetes.apiServerPort)}`, 'check', 'verify', 'none'],
    }));
  const sections: Section[] = [
    { header: ['global'], body: [{ words: ['log', 'stdout', 'format', 'raw', 'local0'] }] },
    {
      header: ['defaults'],
      body: [
        { words: ['mode', 'tcp'] },
        { words: ['log', 'global'] },
        { words: ['option', 'tcplog'] },
        { words: ['option', 'dontlognull'] },
        { words: ['retries', '3'] },
        { words: ['option', 'redispatch', '1'] },
        { words: ['timeout', 'connect', ms(h.connectTimeoutMs)] },
        { words: ['timeout', 'client', `${w(h.idleTimeoutS)}s`] },
        { words: ['timeout', 'server', `${w(h.idleTimeoutS)}s`] },
        { words: ['timeout', 'check', ms(Math.max(h.connectTimeoutMs, Math.min(h.checkIntervalMs, 2000)))] },
        { words: ['default-server', 'inter', ms(h.checkIntervalMs), 'fastinter', ms(Math.max(100, Math.round(h.checkIntervalMs / 2))), 'downinter', ms(h.checkIntervalMs), 'rise', '2', 'fall', '2', 'observe', 'layer4', 'error-limit', '1', 'on-error', 'mark-down'] },
      ],
    },
    {
      header: ['frontend', FRONTEND],
      body: [{ words: ['bind', ...bind] }, { words: ['default_backend', BACKEND] }],
    },
    {
      header: ['backend', BACKEND],
      body: [
        { words: ['balance', 'roundrobin'] },
        { words: ['option', 'httpchk'] },
        { words: ['http-check', 'connect', 'ssl'] },
        { words: ['http-check', 'send', 'meth', 'GET', 'uri', '/healthz'] },
        { words: ['http-check', 'expect', 'status', '200'] },
        ...servers,
      ],
    },
  ];
  const content = renderHaproxy([`haproxy.cfg of cluster ${w(plan.name)}, generated by k8s-ha; do not edit.`], sections);
  return { path: HAPROXY_CFG, mode: 0o644, content };
}

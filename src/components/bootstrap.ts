/**
 * The first-boot bootstrap step: a POSIX sh script that turns a freshly provisioned node into a
 * cluster member without anyone logging in (the job Cluster API's kubeadm bootstrap provider
 * does with a controller, done here with files), and the systemd oneshot unit that runs it on
 * Ignition systems. cloud-init runs the same script from `runcmd`.
 *
 * What the script does, in order:
 * 1. exits 0 at once if the success marker or /etc/kubernetes/kubelet.conf exists (idempotent:
 *    an initialised node is never touched again);
 * 2. runs the profile's pre-kubeadm hooks for the node's role, first, as Cluster API runs its
 *    preKubeadmCommands: this is where users install kubeadm, kubelet and a container runtime;
 * 3. on control-plane nodes (unless keepalived.vrrpPreflight = "off") runs the VRRP preflight
 *    {@link VRRP_PREFLIGHT}, after the hooks (which may install tcpdump) and before anything
 *    else; when it fails (a foreign VRRP router with our router id, or no capture) it moves
 *    the keepalived static pod manifest out of /etc/kubernetes/manifests (to
 *    {@link REFUSED_KEEPALIVED}) and stops before kubeadm, which is what starts kubelet with
 *    that manifest directory: nothing is left that would start keepalived;
 * 3a. checks the prerequisites (kubeadm, kubelet, a containerd or CRI-O socket, curl on
 *    joiners, kubectl on an init node with add-ons) and names every missing one;
 * 4. on control-plane nodes pre-pulls the HAProxy and keepalived images with `crictl pull`
 *    (failure tolerated: offline nodes let kubelet pull later), so the VIP comes up together
 *    with the apiserver (kubelet starts the static pods during kubeadm's kubelet-start phase,
 *    kubernetes/kubernetes#83936);
 * 5. on joiners waits, a bounded number of times, for https://ENDPOINT/healthz to answer;
 * 6. runs `kubeadm init --config F --upload-certs` (init node) or `kubeadm join --config F`;
 * 7. on the init node applies the add-ons with `kubectl apply -f`, each with bounded retries;
 * 8. runs the post-kubeadm hooks for the role (control-plane nodes: with
 *    KUBECONFIG=/etc/kubernetes/admin.conf, which kubeadm writes there);
 * 9. writes the success marker; then exits 1 if an add-on could not be applied.
 * It logs every step to stdout (console, cloud-init-output.log, the unit's journal) and, when
 * `logger` exists, to the journal/syslog with tag `k8s-ha`.
 *
 * The script is generated from {@link BootstrapModel}; every inserted value is validated and
 * single-quoted, so no profile value can add a line or a command to the script.
 */
import { ipFamily, isDns1123Subdomain, isHttpUrl, isImageRef, isShellLine } from '../profile/values.js';
import { fail, type FieldPath } from '../profile/errors.js';
import type { Hook, NodePayload, NodeRole, Plan, PlanNode, RemoteFile } from '../model.js';
import { KUBEADM_CONFIG } from './kubeadm.js';
import { KEEPALIVED_MANIFEST } from './static-pods.js';
import { VRRP_PREFLIGHT } from './vrrp-preflight.js';

/** Where the script lands on the node (mode 0700: hooks may carry credentials). */
export const BOOTSTRAP_SCRIPT = '/etc/k8s-ha/bootstrap.sh';
/** Written after a successful bootstrap; its presence makes the script and the unit no-ops. */
export const BOOTSTRAP_MARKER = '/var/lib/k8s-ha/bootstrap.done';
/** Name of the Ignition systemd unit that runs {@link BOOTSTRAP_SCRIPT} once. */
export const BOOTSTRAP_UNIT = 'k8s-ha-bootstrap.service';
/** Written by kubeadm init/join (kubelet's kubeconfig): the node is already a member. */
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
/** The cluster-admin kubeconfig kubeadm writes on control-plane nodes (init, and join --control-plane). */
export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
/** Where kubeadm looks for the cluster CA's private key (kubeadm's default PKI directory). */
export const CA_KEY_PATH = '/etc/kubernetes/pki/ca.key';
/** Where the init node's add-on manifests from local files land: `<dir>/<name>.yaml`, 0600. */
export const ADDON_DIR = '/etc/k8s-ha/addons';
/** Where a refused VRRP preflight moves the keepalived static pod manifest (out of kubelet's reach). */
export const REFUSED_KEEPALIVED = '/etc/k8s-ha/keepalived.yaml.refused';

/** CRI sockets looked for, in order: containerd, then CRI-O (kubeadm's known endpoints). */
export const CRI_SOCKETS = ['/run/containerd/containerd.sock', '/var/run/crio/crio.sock'];

/** Everything the bootstrap script needs to know; validated by {@link bootstrapScript}. */
export interface BootstrapModel {
  role: NodeRole;
  /** controlPlaneEndpoint `host:port` (IPv6 bracketed), polled at `https://ENDPOINT/healthz` by joiners. */
  endpoint: string;
  /** Absolute path of the node's kubeadm config file. */
  kubeadmConfig: string;
  /** Images pre-pulled on control-plane nodes (ignored on workers), e.g. `haproxy:2.8`. */
  images: string[];
  /** Shell commands run with `sh -c`, in order, first (before the prerequisite check); one line each. */
  preKubeadmCommands: string[];
  /** Shell commands run with `sh -c`, in order, after kubeadm succeeded; one line each. */
  postKubeadmCommands: string[];
  /**
   * Init node only (ignored elsewhere): manifests applied in order with `kubectl apply -f` after
   * `kubeadm init`; `source` is an http(s) URL or an absolute path on the node. Absent: none.
   */
  addons?: { name: string; source: string }[];
  /**
   * Init node only: wait (bounded, {@link wait}'s tries and interval) for the CA key the user
   * delivers to /etc/kubernetes/pki/ca.key before `kubeadm init` (profile caKey = "deliver").
   */
  awaitCaKey?: boolean;
  /** Tries per add-on (1..1000) and seconds between them (0..3600); default {@link DEFAULT_ADDON_RETRY}. */
  addonRetry?: { attempts: number; intervalSeconds: number };
  /**
   * Control-plane roles only (ignored on workers): run the per-node VRRP preflight script
   * ({@link VRRP_PREFLIGHT}, written by the node's payload) before anything else acts.
   */
  vrrpPreflight?: boolean;
  /** Joiners' wait for the control plane: number of tries (1..10000), seconds between tries (0..3600). */
  wait: { attempts: number; intervalSeconds: number };
}

/** Defaults for {@link BootstrapModel.wait}: 90 tries 10 s apart, i.e. 15 min for the init node. */
export const DEFAULT_WAIT = { attempts: 90, intervalSeconds: 10 } as const;

/**
 * Defaults for {@link BootstrapModel.addonRetry}: 30 tries 10 s apart (5 min), as the
 * apiserver may still be settling right after `kubeadm init` (webhooks, CRDs of earlier items).
 */
export const DEFAULT_ADDON_RETRY = { attempts: 30, intervalSeconds: 10 } as const;

/** Refuses a model value that could change the script's structure or is not what it claims: problem E015 at the model's `field`. */
function refuse(field: FieldPath, value: unknown, expected: string): never {
  fail('E_UNSAFE', field, `the bootstrap script refuses ${JSON.stringify(value)}, expected ${expected}`, undefined, 'k8s-ha', '');
}

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** Single-quotes a validated value for sh: `'` becomes `'\''`. */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function checkEndpoint(endpoint: string): string {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(endpoint) ?? /^([^:[\]]+):(\d{1,5})$/.exec(endpoint);
  const host = m?.[1] ?? '';
  const port = Number(m?.[2]);
  const hostOk = endpoint.startsWith('[') ? ipFamily(host) === 6 : ipFamily(host) === 4 || (host !== '' && isDns1123Subdomain(host));
  if (!m || !hostOk || port < 1 || port > 65535) refuse(['endpoint'], endpoint, 'host:port ([v6]:port for IPv6)');
  return endpoint;
}

function checkInt(field: FieldPath, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) refuse(field, value, `an integer ${min}..${max}`);
  return value;
}

function checkCommands(field: FieldPath, commands: string[]): string[] {
  commands.forEach((c, i) => {
    if (!isShellLine(c)) refuse([...field, i], c, 'one non-empty line without control characters');
  });
  return commands;
}

/**
 * The bootstrap script for one node (POSIX sh, `set -eu`).
 *
 * File-system paths are prefixed with `$K8S_HA_ROOT` (unset on real nodes) so tests can run the
 * script in a scratch directory with stub kubeadm/kubelet/curl/crictl on PATH.
 * @throws ProblemError (E015) for any model value that is not what its field documents.
 */
export function bootstrapScript(model: BootstrapModel): string {
  const endpoint = checkEndpoint(model.endpoint);
  if (!SAFE_PATH.test(model.kubeadmConfig)) refuse(['kubeadmConfig'], model.kubeadmConfig, 'an absolute path');
  model.images.forEach((img, i) => {
    if (!isImageRef(img)) refuse(['images', i], img, 'an image reference such as haproxy:2.8');
  });
  const attempts = checkInt(['wait', 'attempts'], model.wait.attempts, 1, 10000);
  const interval = checkInt(['wait', 'intervalSeconds'], model.wait.intervalSeconds, 0, 3600);
  const pre = checkCommands(['preKubeadmCommands'], model.preKubeadmCommands);
  const post = checkCommands(['postKubeadmCommands'], model.postKubeadmCommands);
  const controlPlane = model.role !== 'worker';
  const joiner = model.role !== 'init';
  const addons = model.role === 'init' ? (model.addons ?? []) : [];
  addons.forEach((a, i) => {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(a.name)) refuse(['addons', i, 'name'], a.name, 'a DNS-1123 label');
    if (!SAFE_PATH.test(a.source) && !isHttpUrl(a.source)) refuse(['addons', i, 'source'], a.source, 'an http(s) URL or an absolute path');
  });
  const retry = model.addonRetry ?? DEFAULT_ADDON_RETRY;
  const addonAttempts = checkInt(['addonRetry', 'attempts'], retry.attempts, 1, 1000);
  const addonInterval = checkInt(['addonRetry', 'intervalSeconds'], retry.intervalSeconds, 0, 3600);

  // VRRP preflight: after the pre hooks (they may install tcpdump), before the prerequisite
  // check, so that it runs (and is seen in the journal) on every control-plane first boot.
  const preflight: string[] = controlPlane && model.vrrpPreflight === true ? [
      '',
      '# VRRP preflight: a foreign router with our virtual_router_id would take or share the VIPs.',
      '# On failure keepalived must not start: its manifest leaves the directory kubelet reads.',
      `PREFLIGHT="$ROOT"${shQuote(VRRP_PREFLIGHT)}`,
      'if [ -e "$PREFLIGHT" ]; then',
      '  if sh "$PREFLIGHT"; then',
      '    log "VRRP preflight passed"',
      '  else',
      '    rc=$?',
      `    KEEPALIVED_MANIFEST="$ROOT"${shQuote(KEEPALIVED_MANIFEST)}`,
      `    REFUSED="$ROOT"${shQuote(REFUSED_KEEPALIVED)}`,
      '    if [ -e "$KEEPALIVED_MANIFEST" ]; then',
      '      mkdir -p "$(dirname "$REFUSED")"',
      '      mv -f "$KEEPALIVED_MANIFEST" "$REFUSED"',
      '    fi',
      `    die "VRRP preflight failed (exit $rc, see the vrrp-preflight lines above or journalctl -t k8s-ha): keepalived not started, its manifest moved to ${REFUSED_KEEPALIVED}; fix the segment or the profile, move it back to ${KEEPALIVED_MANIFEST} and run $0 again"`,
      '  fi',
      'else',
      '  log "warning: $PREFLIGHT not found: VRRP preflight skipped"',
      'fi',
  ] : [];
  const lines = [
    '#!/bin/sh',
    `# k8s-ha first-boot bootstrap (${model.role} node), generated by k8s-ha: do not edit.`,
    '# Logs: stdout and `journalctl -t k8s-ha`. Runs once: exits at once when the node is',
    `# initialised (${KUBELET_CONF}) or bootstrapped (${BOOTSTRAP_MARKER}).`,
    'set -eu',
    '',
    '# K8S_HA_ROOT prefixes every file-system path; tests only, unset on a real node.',
    'ROOT="${K8S_HA_ROOT:-}"',
    `KUBEADM_CONFIG="$ROOT"${shQuote(model.kubeadmConfig)}`,
    `MARKER="$ROOT"${shQuote(BOOTSTRAP_MARKER)}`,
    `KUBELET_CONF="$ROOT"${shQuote(KUBELET_CONF)}`,
    '',
    'log() {',
    "  printf 'k8s-ha: %s\\n' \"$*\"",
    '  if command -v logger >/dev/null 2>&1; then logger -t k8s-ha -- "$*" || true; fi',
    '}',
    'die() {',
    '  log "ERROR: $*"',
    '  exit 1',
    '}',
    '# run_hook PHASE N COMMAND: profile hook N, through sh -c; a failing hook stops the bootstrap.',
    '# Logged by number, not text: hooks may carry credentials (this script is 0700 for them).',
    'run_hook() {',
    '  log "$1-kubeadm hook $2"',
    '  sh -c "$3" || die "$1-kubeadm hook $2 failed (exit $?)"',
    '}',
    '',
    'if [ -e "$MARKER" ]; then',
    '  log "already bootstrapped ($MARKER exists): nothing to do"',
    '  exit 0',
    'fi',
    'if [ -e "$KUBELET_CONF" ]; then',
    '  log "node already initialised ($KUBELET_CONF exists): nothing to do"',
    '  exit 0',
    'fi',
    ...(pre.length > 0 ? ['', '# The profile\'s pre-kubeadm hooks come first: they may install what the check below looks for.'] : []),
    ...pre.map((c, i) => `run_hook pre ${i + 1} ${shQuote(c)}`),
    ...preflight,
    '',
    "missing=''",
    ...['kubeadm', 'kubelet', ...(joiner ? ['curl'] : []), ...(addons.length > 0 ? ['kubectl'] : [])].map((cmd) => `command -v ${cmd} >/dev/null 2>&1 || missing="$missing ${cmd}"`),
    "CRI_SOCKET=''",
    `for s in ${CRI_SOCKETS.join(' ')}; do`,
    '  if [ -S "$ROOT$s" ]; then',
    '    CRI_SOCKET="$ROOT$s"',
    '    break',
    '  fi',
    'done',
    `[ -n "$CRI_SOCKET" ] || missing="$missing CRI-socket(${CRI_SOCKETS.join('|')})"`,
    '[ -z "$missing" ] || die "missing prerequisites:$missing (install them: a preKubeadmCommands hook runs before this check; on Flatcar the Kubernetes sysext; then run $0 again)"',
    'log "prerequisites found: kubeadm, kubelet, CRI socket $CRI_SOCKET"',
    '# kubeadm restarts kubelet but does not enable it: without this a reboot leaves it stopped',
    '# (a Flatcar sysext ships kubelet.service disabled).',
    'if command -v systemctl >/dev/null 2>&1; then',
    '  systemctl enable kubelet.service || log "warning: could not enable kubelet.service"',
    'fi',
  ];
  if (controlPlane && model.images.length > 0) {
    lines.push(
      '',
      '# Pre-pull the VIP images so HAProxy and keepalived start together with the apiserver.',
      'prepull() {',
      '  if ! command -v crictl >/dev/null 2>&1; then',
      '    log "crictl not found: kubelet will pull $1 itself"',
      '  elif crictl --runtime-endpoint "unix://$CRI_SOCKET" pull "$1" >/dev/null; then',
      '    log "pre-pulled $1"',
      '  else',
      '    log "warning: could not pre-pull $1 (offline?): kubelet will retry"',
      '  fi',
      '}',
      ...model.images.map((img) => `prepull ${shQuote(img)}`),
    );
  }
  if (joiner) {
    lines.push(
      '',
      '# Wait (bounded) until the control plane answers through the VIP.',
      `url=${shQuote(`https://${endpoint}/healthz`)}`,
      `WAIT_ATTEMPTS=${attempts}`,
      `WAIT_INTERVAL=${interval}`,
      'i=1',
      'until curl -gfsk --max-time 5 -o /dev/null "$url"; do',
      '  if [ "$i" -ge "$WAIT_ATTEMPTS" ]; then',
      '    die "gave up waiting for the control plane at $url after $WAIT_ATTEMPTS attempts ${WAIT_INTERVAL}s apart: check that the init node booted (journalctl -t k8s-ha there) and that the VIP answers, then run $0 again"',
      '  fi',
      '  log "waiting for the control plane at $url (attempt $i/$WAIT_ATTEMPTS)"',
      '  i=$((i + 1))',
      '  sleep "$WAIT_INTERVAL"',
      'done',
      'log "control plane answers at $url"',
    );
  }
  if (model.role === 'init' && model.awaitCaKey === true) {
    lines.push(
      '',
      '# The profile keeps the CA private key out of the outputs (caKey = "deliver"): wait for it.',
      `CA_KEY="$ROOT"${shQuote(CA_KEY_PATH)}`,
      `WAIT_ATTEMPTS=${attempts}`,
      `WAIT_INTERVAL=${interval}`,
      'i=1',
      'until [ -s "$CA_KEY" ]; do',
      '  if [ "$i" -ge "$WAIT_ATTEMPTS" ]; then',
      `    die "gave up waiting for the cluster CA key after $WAIT_ATTEMPTS attempts \${WAIT_INTERVAL}s apart: copy ca.key (k8s-ha render writes it beside the outputs) to ${CA_KEY_PATH} on this node, mode 0600, then run $0 again"`,
      '  fi',
      `  log "waiting for the cluster CA key: copy ca.key (k8s-ha render writes it beside the outputs) to ${CA_KEY_PATH} on this node, mode 0600 (attempt $i/$WAIT_ATTEMPTS)"`,
      '  i=$((i + 1))',
      '  sleep "$WAIT_INTERVAL"',
      'done',
      'chmod 600 "$CA_KEY"',
      'log "cluster CA key found at $CA_KEY"',
    );
  }
  const kubeadm =
    model.role === 'init'
      ? { argv: 'kubeadm init --config "$KUBEADM_CONFIG" --upload-certs', what: 'kubeadm init' }
      : { argv: 'kubeadm join --config "$KUBEADM_CONFIG"', what: 'kubeadm join' };
  lines.push(
    '',
    `log "running ${kubeadm.what} with $KUBEADM_CONFIG"`,
    `${kubeadm.argv} || die "${kubeadm.what} failed (exit $?): see its output above; run 'kubeadm reset -f' before running $0 again"`,
  );
  if (addons.length > 0) {
    lines.push(
      '',
      '# Add-ons: applied once, from this (the init) node only, each with bounded retries.',
      `ADDON_ATTEMPTS=${addonAttempts}`,
      `ADDON_INTERVAL=${addonInterval}`,
      "failed_addons=''",
      '# apply_addon NAME SOURCE: kubectl apply -f SOURCE until it succeeds or the tries run out.',
      'apply_addon() {',
      '  n=1',
      '  until kubectl --kubeconfig "$ROOT/etc/kubernetes/admin.conf" apply -f "$2"; do',
      '    if [ "$n" -ge "$ADDON_ATTEMPTS" ]; then',
      `      log "ERROR: add-on $1 not applied after $n attempts \${ADDON_INTERVAL}s apart; apply it yourself: kubectl --kubeconfig ${ADMIN_CONF} apply -f $2"`,
      '      failed_addons="$failed_addons $1"',
      '      return 0',
      '    fi',
      '    log "add-on $1: kubectl apply failed (attempt $n/$ADDON_ATTEMPTS), retrying in ${ADDON_INTERVAL}s"',
      '    n=$((n + 1))',
      '    sleep "$ADDON_INTERVAL"',
      '  done',
      '  log "applied add-on $1 ($2)"',
      '}',
      ...addons.map((a) => `apply_addon ${shQuote(a.name)} ${a.source.startsWith('/') ? `"$ROOT"${shQuote(a.source)}` : shQuote(a.source)}`),
    );
  }
  if (post.length > 0) {
    lines.push('');
    if (controlPlane) lines.push(`# kubeadm wrote the cluster-admin kubeconfig: the post hooks use it (kubectl, helm...).`, `export KUBECONFIG="$ROOT"${shQuote(ADMIN_CONF)}`);
    lines.push(...post.map((c, i) => `run_hook post ${i + 1} ${shQuote(c)}`));
  }
  lines.push(
    '',
    'mkdir -p "$(dirname "$MARKER")"',
    "date -u '+%Y-%m-%dT%H:%M:%SZ' >\"$MARKER\"",
    `log "bootstrap done (${model.role}): wrote $MARKER"`,
  );
  if (addons.length > 0) lines.push('[ -z "$failed_addons" ] || die "add-ons not applied:$failed_addons (see the messages above)"');
  return `${lines.join('\n')}\n`;
}

/**
 * The systemd unit that runs the bootstrap script once on Ignition systems: a oneshot after the
 * network and the container runtime (and systemd-sysext, which provides kubeadm on Flatcar),
 * skipped once the success marker exists; output to the journal and the console.
 */
export function bootstrapUnit(): string {
  return [
    '[Unit]',
    'Description=k8s-ha first-boot kubeadm bootstrap',
    'Wants=network-online.target',
    'After=network-online.target systemd-sysext.service containerd.service crio.service',
    `ConditionPathExists=!${BOOTSTRAP_MARKER}`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${BOOTSTRAP_SCRIPT}`,
    'StandardOutput=journal+console',
    'StandardError=journal+console',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Where Ignition puts the Flatcar Kubernetes sysext image; systemd-sysext merges /etc/extensions/*.raw at boot. */
export const SYSEXT_IMAGE = '/etc/extensions/kubernetes.raw';

/**
 * The bootstrap step of a node of `role` in both formats: the script (0700), run by cloud-init from
 * `runcmd` and on Ignition systems by the {@link BOOTSTRAP_UNIT} oneshot unit; plus, when the
 * profile names a sysext image, its verified download (Ignition only) so kubeadm and kubelet
 * exist at first boot on Flatcar. Joiners wait up to {@link DEFAULT_WAIT} for the VIP.
 */
export function bootstrapPayload(plan: Plan, role: PlanNode['role']): NodePayload {
  const k = plan.kubernetes;
  const forRole = (hooks: Hook[]) => hooks.filter((h) => h.roles.includes(role)).map((h) => h.run);
  const addons = role === 'init' ? (plan.addons ?? []) : [];
  const addonPath = (name: string) => `${ADDON_DIR}/${name}.yaml`;
  const script = bootstrapScript({
    role,
    endpoint: k.controlPlaneEndpoint,
    kubeadmConfig: KUBEADM_CONFIG,
    images: [plan.haproxy.image, plan.keepalived.image],
    preKubeadmCommands: forRole(k.preKubeadmCommands),
    postKubeadmCommands: forRole(k.postKubeadmCommands),
    addons: addons.map((a) => ({ name: a.name, source: 'url' in a ? a.url : addonPath(a.name) })),
    awaitCaKey: role === 'init' && k.caKey === 'deliver',
    vrrpPreflight: role !== 'worker' && plan.keepalived.vrrpPreflight === 'enforce',
    wait: DEFAULT_WAIT,
  });
  const downloads: RemoteFile[] = k.sysext ? [{ path: SYSEXT_IMAGE, mode: 0o644, url: k.sysext.url, sha512: k.sysext.sha512 }] : [];
  return {
    files: [
      { path: BOOTSTRAP_SCRIPT, mode: 0o700, content: script },
      // Manifests may hold credentials: 0600, like the script.
      ...addons.flatMap((a) => ('content' in a ? [{ path: addonPath(a.name), mode: 0o600, content: a.content }] : [])),
    ],
    runcmd: [[BOOTSTRAP_SCRIPT]],
    units: [{ name: BOOTSTRAP_UNIT, enabled: true, contents: bootstrapUnit() }],
    downloads,
  };
}

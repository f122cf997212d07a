/**
 * The keepalived and HAProxy static pods that kubelet starts from /etc/kubernetes/manifests,
 * built as typed Pod objects (kubernetes-types) and serialised, never text templates.
 */
import { createHash } from 'node:crypto';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { NodeFile, Plan } from '../model.js';
import { toYaml } from '../formats/yaml.js';
import { HAPROXY_DIR, haproxyCommand } from './haproxy.js';
import { KEEPALIVED_CONF, KEEPALIVED_DIR } from './keepalived.js';
import { vipWatchContainer, vipWatchRuns } from './vip-watch.js';

export const MANIFESTS_DIR = '/etc/kubernetes/manifests';

/**
 * Annotation on each static pod holding {@link configHash} of the files it mounts. kubelet
 * restarts a static pod when its manifest changes (the pod's hash of the manifest differs),
 * never when a mounted file does; carrying the config's hash in the manifest makes writing a
 * new config plus the new manifest restart exactly the pods whose config changed (the same
 * trick as Helm's `checksum/config`).
 */
export const CONFIG_HASH_ANNOTATION = 'k8s-ha/config-hash';

/**
 * `sha256:<64 hex>` over the files, sorted by path, each as its path, its mode (octal) and its
 * content, every field length-prefixed so that no two different file sets hash alike.
 * Deterministic: depends on the files' paths, modes and bytes alone, not on their order.
 */
export function configHash(files: readonly NodeFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    for (const field of [f.path, f.mode.toString(8), f.content]) {
      const bytes = Buffer.from(field, 'utf8');
      h.update(`${bytes.length}:`).update(bytes);
    }
  }
  return `sha256:${h.digest('hex')}`;
}

/** The files among `files` that lie under `dir` (the directory a static pod mounts). */
export function filesUnder(dir: string, files: readonly NodeFile[]): NodeFile[] {
  return files.filter((f) => f.path.startsWith(`${dir}/`));
}

/**
 * A hostNetwork static pod in kube-system running `containers` (the main one first), each with
 * the config directory mounted read-only by hostPath at the same path it has on the node, so
 * the manifest alone says what runs: the explicit `command` and the mounted files. `config`:
 * the node's files; those under `configDir` are hashed into the {@link CONFIG_HASH_ANNOTATION}.
 */
function staticPod(name: string, containers: Container[], configDir: string, config: readonly NodeFile[], hostPID = false): Pod {
  const volume: Volume = { name: 'config', hostPath: { path: configDir, type: 'Directory' } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'kube-system',
      annotations: { [CONFIG_HASH_ANNOTATION]: configHash(filesUnder(configDir, config)) },
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'k8s-ha', component: name, tier: 'control-plane' },
    },
    spec: {
      hostNetwork: true,
      ...(hostPID ? { hostPID: true } : {}),
      priorityClassName: 'system-node-critical',
      containers: containers.map((c) => ({ ...c, volumeMounts: [{ name: 'config', mountPath: configDir, readOnly: true }] })),
      volumes: [volume],
    },
  };
}

/**
 * keepalived static pod: VRRP needs raw sockets and address changes, hence NET_ADMIN,
 * NET_BROADCAST and NET_RAW (kubeadm's HA guide). Runs in the foreground, logging to the
 * console, VRRP subsystem only, with our keepalived.conf (this bypasses the osixia image's
 * environment-variable templating). With `keepalived.trackProcess`, `hostPID: true`: keepalived
 * tracks the HAProxy process (vrrp_track_process), which it can only see, and hear of through the
 * kernel's process events, from the host's PID namespace (the kernel ignores a process-event
 * subscription from any other PID namespace: drivers/connector/cn_proc.c cn_proc_mcast_ctl).
 * The trade-off: the pod then sees every process of the node. With `keepalived.vipWatch = "on"`
 * (default) and an IPv4 VIP, a second container, the VIP watch (components/vip-watch.ts), runs
 * beside it.
 */
export function keepalivedPod(plan: Plan, config: readonly NodeFile[]): Pod {
  return staticPod(
    'keepalived',
    [{
      name: 'keepalived',
      image: plan.keepalived.image,
      command: ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp', `--use-file=${KEEPALIVED_CONF}`],
      securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } },
      resources: { requests: { cpu: '10m', memory: '16Mi' } },
    }, ...(vipWatchRuns(plan) ? [vipWatchContainer(plan)] : [])],
    KEEPALIVED_DIR,
    config,
    plan.keepalived.trackProcess,
  );
}

/**
 * HAProxy static pod: master-worker mode in the foreground with our haproxy.cfg
 * ({@link haproxyCommand}: per node, `nodeName`, with keepalived.trackProcess), and a
 * liveness probe on /healthz of the LB port over HTTPS (kubeadm's HA guide: failureThreshold 8),
 * i.e. through HAProxy to some apiserver.
 */
export function haproxyPod(plan: Plan, config: readonly NodeFile[], nodeName: string): Pod {
  return staticPod(
    'haproxy',
    [{
      name: 'haproxy',
      image: plan.haproxy.image,
      command: haproxyCommand(plan, nodeName),
      livenessProbe: {
        httpGet: { path: '/healthz', port: plan.vip.port, scheme: 'HTTPS' },
        failureThreshold: 8,
        periodSeconds: 10,
        timeoutSeconds: 5,
      },
      resources: { requests: { cpu: '25m', memory: '32Mi' } },
    }],
    HAPROXY_DIR,
    config,
  );
}

/** Path of the HAProxy static pod manifest on a node. */
export const HAPROXY_MANIFEST = `${MANIFESTS_DIR}/haproxy.yaml`;
/** Path of the keepalived static pod manifest on a node. */
export const KEEPALIVED_MANIFEST = `${MANIFESTS_DIR}/keepalived.yaml`;

/**
 * The HAProxy manifest as a node file (0644: it carries no secret); `config` holds the node's
 * files, of which those under /etc/haproxy are hashed. The same on every node (haproxy.cfg
 * depends on the plan alone) unless keepalived.trackProcess names the node in the command
 * (`nodeName`).
 */
export function haproxyPodFile(plan: Plan, config: readonly NodeFile[], nodeName: string): NodeFile {
  return { path: HAPROXY_MANIFEST, mode: 0o644, content: toYaml(haproxyPod(plan, config, nodeName)) };
}

/**
 * The keepalived manifest as a node file (0644); `config` holds the node's files, of which
 * those under /etc/keepalived (keepalived.conf, check_apiserver.sh, vip-watch.sh) are hashed. Per node, since
 * keepalived.conf is (state, priority, peers).
 */
export function keepalivedPodFile(plan: Plan, config: readonly NodeFile[]): NodeFile {
  return { path: KEEPALIVED_MANIFEST, mode: 0o644, content: toYaml(keepalivedPod(plan, config)) };
}

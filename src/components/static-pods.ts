/**
 * The keepalived and HAProxy static pods that kubelet starts from /etc/kubernetes/manifests,
 * built as typed Pod objects (kubernetes-types) and serialised, never text templates.
 */
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { NodeFile, Plan } from '../model.js';
import { toYaml } from '../formats/yaml.js';
import { HAPROXY_CFG, HAPROXY_DIR } from './haproxy.js';
import { KEEPALIVED_CONF, KEEPALIVED_DIR } from './keepalived.js';

export const MANIFESTS_DIR = '/etc/kubernetes/manifests';

/**
 * A hostNetwork static pod in kube-system running one container whose config directory is
 * mounted read-only by hostPath at the same path it has on the node, so the manifest alone
 * says what runs: the explicit `command` and the mounted files.
 */
function staticPod(name: string, container: Container, configDir: string): Pod {
  const volume: Volume = { name: 'config', hostPath: { path: configDir, type: 'Directory' } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'kube-system',
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'k8s-ha', component: name, tier: 'control-plane' },
    },
    spec: {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      containers: [{ ...container, volumeMounts: [{ name: 'config', mountPath: configDir, readOnly: true }] }],
      volumes: [volume],
    },
  };
}

/**
 * keepalived static pod: VRRP needs raw sockets and address changes, hence NET_ADMIN,
 * NET_BROADCAST and NET_RAW (kubeadm's HA guide). Runs in the foreground, logging to the
 * console, VRRP subsystem only, with our keepalived.conf (this bypasses the osixia image's
 * environment-variable templating).
 */
export function keepalivedPod(plan: Plan): Pod {
  return staticPod(
    'keepalived',
    {
      name: 'keepalived',
      image: plan.keepalived.image,
      command: ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp', `--use-file=${KEEPALIVED_CONF}`],
      securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } },
      resources: { requests: { cpu: '10m', memory: '16Mi' } },
    },
    KEEPALIVED_DIR,
  );
}

/**
 * HAProxy static pod: master-worker mode in the foreground with our haproxy.cfg, and a
 * liveness probe on /healthz of the LB port over HTTPS (kubeadm's HA guide: failureThreshold 8),
 * i.e. through HAProxy to some apiserver.
 */
export function haproxyPod(plan: Plan): Pod {
  return staticPod(
    'haproxy',
    {
      name: 'haproxy',
      image: plan.haproxy.image,
      command: ['haproxy', '-W', '-db', '-f', HAPROXY_CFG],
      livenessProbe: {
        httpGet: { path: '/healthz', port: plan.vip.port, scheme: 'HTTPS' },
        failureThreshold: 8,
        periodSeconds: 10,
        timeoutSeconds: 5,
      },
      resources: { requests: { cpu: '25m', memory: '32Mi' } },
    },
    HAPROXY_DIR,
  );
}

/**
 * The two manifests as node files (0644: they carry no secret). Made once per plan by
 * components/index.ts, since they are the same on every node.
 */
export function staticPodFiles(plan: Plan): NodeFile[] {
  return [
    { path: `${MANIFESTS_DIR}/haproxy.yaml`, mode: 0o644, content: toYaml(haproxyPod(plan)) },
    { path: `${MANIFESTS_DIR}/keepalived.yaml`, mode: 0o644, content: toYaml(keepalivedPod(plan)) },
  ];
}

/**
 * The lab's kubelet: runs the static pods an applied node root carries in
 * /etc/kubernetes/manifests, the way kubelet + a container runtime would for hostNetwork pods,
 * but with the machine's own (Debian) binaries instead of images. Per container: the node's
 * network namespace, a private mount namespace, a PID namespace of its own (as a container
 * runtime gives each container: when its first process dies, the kernel kills every process
 * of it, so a stopped container leaves nothing running), a fresh tmpfs on /run and /tmp, every
 * hostPath volume of the node root bind-mounted at its mountPath (read-only when the mount
 * says so), then the container's `command` + `args` exec'd with a plain PATH.
 * Nothing is written by the lab: what runs is exactly what the outputs put on the node.
 *
 * A `hostPID: true` pod (keepalived with keepalived.trackProcess) runs in the machine's PID
 * namespace instead, as a runtime runs it on a real node. Its keepalived is started in the
 * machine's network namespace and joins the node's itself (keepalived's own `--namespace`,
 * appended to its command): keepalived opens its process-event socket (the kernel's netlink
 * proc connector) before it calls setns() (keepalived core/main.c), and the kernel answers that
 * socket only in the initial network namespace, where a hostNetwork keepalived lives on a real
 * node; started inside the node's namespace keepalived logs "Failed to set/clear process event
 * listen - errno 111 - Connection refused" and never hears of a process exit.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { LAB_MARK, startDaemon, stopDaemon, type Daemon } from './proc.js';
import { MANIFESTS_DIR } from '../components/static-pods.js';
import type { NetNode } from './netns.js';


/** One bind mount of a container: node-root source path, mountPath, read-only flag. */
export interface BindMount { source: string; target: string; readOnly: boolean }

/** A container ready to run: its argv, environment and mounts. */
export interface ContainerSpec {
  /** `pod/container`, for messages. */
  name: string;
  argv: string[];
  env: Record<string, string>;
  mounts: BindMount[];
  /** The pod's `spec.hostPID`: run in the machine's PID namespace (see the module doc). */
  hostPID?: boolean;
  /** What the runtime stops it with ({@link stopSignalOf}). */
  stopSignal: NodeJS.Signals;
}

/**
 * The signal a container runtime stops a container with: its image's STOPSIGNAL, else
 * SIGTERM. The lab runs programs, not images, so it knows the images of k8s-ha's pods by their
 * program. HAProxy's official image (docker-library/haproxy, e.g. 2.8/Dockerfile) sets
 * `STOPSIGNAL SIGUSR1`: HAProxy's soft stop, which stops listening, lets the established
 * sessions finish and then exits, where SIGTERM closes them at once (HAProxy management guide,
 * "Stopping and restarting HAProxy", which the Dockerfile quotes). The lab's HAProxy is
 * Debian's build of the same program, with the same signals (in master-worker mode the master
 * passes SIGUSR1 to its worker and exits after it). keepalived's image sets none: SIGTERM.
 */
export function stopSignalOf(argv: readonly string[]): NodeJS.Signals {
  return basename(argv[0] ?? '') === 'haproxy' ? 'SIGUSR1' : 'SIGTERM';
}

/** A running container of a node. */
export interface RunningContainer { node: string; spec: ContainerSpec; daemon: Daemon }

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * In-namespace runner: working directory / (a container starts in its image's WORKDIR, / by
 * default; the caller's may sit under the /tmp we hide), tmpfs /run and /tmp, then
 * `mount --bind SRC DST` for each
 * `SRC DST ro|rw` triple before `--`, then exec the rest. Values travel as arguments, never
 * inside the script text. With `K8SHA_LAB_NETNS` set (a keepalived that joins that network
 * namespace itself), /run/netns/NAME stays reachable under the new /run.
 */
const RUNNER = `set -e
cd /
if [ -n "$K8SHA_LAB_NETNS" ]; then exec 3< "/run/netns/$K8SHA_LAB_NETNS"; fi
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
if [ -n "$K8SHA_LAB_NETNS" ]; then
  mkdir /run/netns
  : > "/run/netns/$K8SHA_LAB_NETNS"
  mount --no-canonicalize --bind /proc/self/fd/3 "/run/netns/$K8SHA_LAB_NETNS"
  exec 3<&-
fi
while [ "$1" != -- ]; do
  [ -e "$2" ] || { echo "k8s-ha lab: mountPath $2 does not exist on this machine" >&2; exit 97; }
  mount --bind "$1" "$2"
  if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi
  shift 3
done
shift
exec "$@"`;

/**
 * Reads every `*.yaml`/`*.yml`/`*.json` static pod under `root`/etc/kubernetes/manifests
 * (sorted by file name) and resolves its containers.
 * @throws Error naming the manifest when it is not a hostNetwork Pod, a container has no
 *   `command`, or a volumeMount names a volume that is not a hostPath.
 */
export async function readStaticPods(root: string): Promise<ContainerSpec[]> {
  const { parse } = await import('yaml');
  const dir = join(root, MANIFESTS_DIR);
  const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const specs: ContainerSpec[] = [];
  for (const file of files) {
    const where = join(MANIFESTS_DIR, file);
    const pod = parse(await readFile(join(dir, file), 'utf8')) as Pod;
    if (pod?.kind !== 'Pod' || !pod.spec) throw new Error(`${where}: expected a Pod with a spec`);
    if (!pod.spec.hostNetwork) throw new Error(`${where}: the lab runs hostNetwork pods only (spec.hostNetwork is not true)`);
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const c of pod.spec.containers) {
      if (!c.command?.length) throw new Error(`${where}: container ${c.name} has no command; the lab cannot know the image's entrypoint`);
      const mounts = (c.volumeMounts ?? []).map((m): BindMount => {
        const host = volumes.get(m.name)?.hostPath?.path;
        if (!host) throw new Error(`${where}: volumeMount ${m.name} of ${c.name} is not a hostPath volume`);
        return { source: join(root, host), target: m.mountPath, readOnly: m.readOnly === true };
      });
      const env = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      const argv = [...c.command, ...(c.args ?? [])];
      specs.push({ name: `${pod.metadata?.name ?? file}/${c.name}`, argv, env, mounts, ...(pod.spec.hostPID === true ? { hostPID: true } : {}), stopSignal: stopSignalOf(argv) });
    }
  }
  return specs;
}

/** Starts one container of `node` (see the module doc). */
export function startContainer(node: NetNode, spec: ContainerSpec): RunningContainer {
  const binds = spec.mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']);
  // The lab's mark goes in too (a container runtime adds variables of its own as well), so
  // that whatever the container starts can be found and reaped (proc.ts labProcesses).
  const env = Object.entries({ PATH, ...spec.env, [LAB_MARK]: String(process.pid) }).map(([k, v]) => `${k}=${v}`);
  if (spec.hostPID) {
    // The machine's PID namespace; keepalived joins the node's network namespace itself (module doc).
    const joinsItself = basename(spec.argv[0]!) === 'keepalived';
    const daemon = startDaemon(`${node.name}/${spec.name}`, [...(joinsItself ? [] : ['ip', 'netns', 'exec', node.ns]),
      'unshare', '-m', '--propagation', 'private', 'env', `K8SHA_LAB_NETNS=${joinsItself ? node.ns : ''}`, 'sh', '-c', RUNNER, 'k8s-ha-pod', ...binds, '--', 'env', '-i', ...env, ...spec.argv,
      ...(joinsItself ? [`--namespace=${node.ns}`] : [])]);
    return { node: node.name, spec, daemon };
  }
  const daemon = startDaemon(`${node.name}/${spec.name}`, ['ip', 'netns', 'exec', node.ns,
    'unshare', '-m', '--propagation', 'private', '--pid', '--fork', '--kill-child', 'sh', '-c', RUNNER, 'k8s-ha-pod', ...binds, '--', 'env', '-i', ...env, ...spec.argv]);
  return { node: node.name, spec, daemon };
}

/**
 * Stops a container as kubelet does (StopContainer): its stop signal ({@link stopSignalOf}) to
 * the container's first process, SIGKILL after `graceMs`; resolves once it is gone. The first
 * process is the child of `unshare --fork` ({@link startContainer}): unshare itself would die
 * of a signal it does not handle, such as SIGUSR1, and take the container with it
 * (`--kill-child`). A hostPID container has no such child: the signal goes to its group.
 */
export function stopContainer(c: RunningContainer, graceMs: number): Promise<void> {
  return stopDaemon(c.daemon, c.spec.stopSignal, graceMs, c.spec.hostPID ? 'group' : 'children');
}

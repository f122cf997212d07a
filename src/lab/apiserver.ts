/**
 * Stand-in apiservers: one HTTPS server per node (see apiserver-main.ts), run as a child in
 * the node's network namespace so a scenario can stop it, plus the lab's self-signed
 * certificate (HAProxy checks with `verify none` and the client does not verify either).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { run, sleep, startDaemon, type Daemon } from './proc.js';
import type { NetNode } from './netns.js';

/** Paths of the lab's certificate and key (PEM). */
export interface LabCert { cert: string; key: string }

/** Makes a throw-away self-signed P-256 certificate in `dir` with the openssl CLI (1 day). */
export async function makeCert(dir: string): Promise<LabCert> {
  const cert = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  await run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=k8s-ha-lab-apiserver', '-days', '1', '-keyout', key, '-out', cert]);
  return { cert, key };
}

const MAIN = fileURLToPath(new URL('./apiserver-main.js', import.meta.url));

/**
 * Starts the stand-in apiserver of `node` on its address and `port`; resolves once it
 * listens (it prints `ready`).
 * @throws Error with the server's output when it exits or is not ready within 5 s.
 */
export async function startApiserver(node: NetNode, port: number, cert: LabCert): Promise<Daemon> {
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const d = startDaemon(`${node.name}/apiserver`,
    ['ip', 'netns', 'exec', node.ns, process.execPath, MAIN, node.name, node.address, String(port), cert.cert, cert.key],
    (line) => line === 'ready' && ready());
  // The timer is unref'd: a lab that is done does not wait for it.
  const outcome = await Promise.race([isReady.then(() => 'ready'), d.exited, sleep(5000, 'timeout', { ref: false })]);
  if (outcome !== 'ready') throw new Error(`stand-in apiserver of ${node.name} did not start (${String(outcome)}):\n${d.log()}`);
  return d;
}

import { gzipSync } from 'node:zlib';
import type { BootSettings } from '../../src/model.js';
import type { BundleSource, NodeConfigs } from '../../src/bundle/layout.js';
import type { NetworkNode } from '../../src/bundle/network.js';
import type { CheckedBootSettings } from '../../src/bundle/boot.js';

/** Boot settings on test addresses (198.18.0.0/15 only), as checkBootSettings returns them. */
export const testBoot = (os: BootSettings['os']): CheckedBootSettings => ({
  os,
  assetsUrl: 'http://198.18.0.1:8080/assets',
  configUrl: 'http://198.18.0.1:8080/k8s',
  kernelArgs: ['console=ttyS0,115200n8'],
  matchboxUrl: 'http://198.18.0.1:8080/k8s',
  mode: 'install',
  installDisk: '/dev/vda',
});

/** `count` nodes: three static control-plane nodes, the rest DHCP workers. */
export function testNodes(count: number): NetworkNode[] {
  return Array.from({ length: count }, (_, i) => ({
    name: i < 3 ? `cp-${i}` : `worker-${i}`,
    index: i,
    address: `198.18.${Math.floor(i / 250)}.${10 + (i % 240)}`,
    prefix: 16,
    interface: 'eth0',
    mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
    ...(i < 3 ? { gateway: '198.18.0.1', dns: ['198.18.0.2', '198.18.0.3'] } : {}),
  }));
}

/**
 * A stand-in renderer producing real-format outputs (valid #cloud-config with a gz+b64 file,
 * Ignition 3.3.0 with a gzip data URL), until the generator core's renderer is wired in.
 */
export function testRender(node: NetworkNode): NodeConfigs {
  const content = `# ${node.name}\n${'kube-apiserver flag\n'.repeat(200)}`;
  const gz = gzipSync(content, { level: 9 }).toString('base64');
  const userData = [
    '#cloud-config',
    'write_files:',
    `- path: /etc/k8s-ha/${node.name}.conf`,
    "  permissions: '0600'",
    '  encoding: gz+b64',
    `  content: ${gz}`,
    '',
  ].join('\n');
  const ignition = JSON.stringify({
    ignition: { version: '3.3.0' },
    storage: { files: [{ path: `/etc/k8s-ha/${node.name}.conf`, mode: 0o600, overwrite: true,
      contents: { compression: 'gzip', source: `data:;base64,${gz}` } }] },
  });
  return { userData, metaData: `instance-id: ${node.name}\nlocal-hostname: ${node.name}\n`, ignition };
}

export const testSource = (os: BootSettings['os'], count = 5): BundleSource => ({
  boot: testBoot(os), nodes: testNodes(count), render: testRender,
});

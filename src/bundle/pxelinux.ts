import type { BootImage } from './boot.js';

/**
 * `pxelinux.cfg/01-<aa-bb-..>` for one node. pxelinux looks for `01-` + the lower-case,
 * hyphenated MAC (after the UUID, before the IP in hex and `default`; syslinux wiki, PXELINUX).
 * The kernel and initrds are absolute http(s) URLs, which need lpxelinux.0 (the
 * HTTP-capable pxelinux). `initrd=` takes the comma-separated initrd list.
 */
export function pxelinuxConfig(nodeName: string, image: BootImage): string {
  return [
    `# k8s-ha node ${nodeName} (needs lpxelinux.0 for http URLs)`,
    'DEFAULT k8s-ha',
    `LABEL k8s-ha`,
    `  KERNEL ${image.kernel}`,
    `  APPEND ${[`initrd=${image.initrds.map((initrd) => initrd.url).join(',')}`, ...image.args].join(' ')}`,
    '',
  ].join('\n');
}

import type { BootSettings } from '../model.js';
import type { BootImage } from './boot.js';

/**
 * iPXE scripts (ipxe.org/scripting): `#!ipxe`, then commands one per line. Values inside come
 * from {@link BootImage}s whose URLs and arguments were validated by ./validate.ts, so none
 * contains whitespace, `$`, `{` or a command terminator.
 */

/**
 * `ipxe/boot.ipxe`, the script DHCP hands to iPXE: chains to the per-node script named after
 * the booting NIC's MAC (`${mac:hexhyp}` is iPXE's `aa-bb-cc-dd-ee-ff` form) and, when there is
 * none, says so and drops to the iPXE shell instead of looping.
 */
export function ipxeChainScript(boot: BootSettings): string {
  return [
    '#!ipxe',
    '# k8s-ha: chain to this NIC\'s own script, ipxe/<aa-bb-cc-dd-ee-ff>.ipxe',
    `chain ${boot.configUrl}/ipxe/\${mac:hexhyp}.ipxe || goto unknown`,
    ':unknown',
    'echo k8s-ha: no boot script for ${mac:hexhyp} under ' + `${boot.configUrl}/ipxe/`,
    'shell',
    '',
  ].join('\n');
}

/**
 * `ipxe/<aa-bb-..>.ipxe` for one node: `kernel URL initrd=NAME ARGS...`, one
 * `initrd --name NAME URL` per initrd (the `initrd=NAME` argument lets UEFI kernels find it),
 * then `boot`.
 */
export function ipxeNodeScript(nodeName: string, image: BootImage): string {
  return [
    '#!ipxe',
    `# k8s-ha node ${nodeName}`,
    ['kernel', image.kernel, ...image.initrds.map((initrd) => `initrd=${initrd.name}`), ...image.args].join(' '),
    ...image.initrds.map((initrd) => `initrd --name ${initrd.name} ${initrd.url}`),
    'boot',
    '',
  ].join('\n');
}

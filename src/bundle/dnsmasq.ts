import type { BootSettings } from '../model.js';
import { bracketIp } from '../profile/values.js';

/** A node as dnsmasq's `dhcp-host` needs it (MAC in colon form, address without prefix). */
export interface DhcpHost {
  name: string;
  address: string;
  mac: string;
}

/**
 * `dnsmasq.conf.example`: iPXE chain-loading with dnsmasq (dnsmasq(8)). PXE firmware gets
 * iPXE over TFTP (`undionly.kpxe` for BIOS, `ipxe.efi` for x86-64 UEFI, client-arch 7 and 9
 * per RFC 4578), and iPXE, recognised by its user class `iPXE`, gets `ipxe/boot.ipxe` over HTTP.
 * One `dhcp-host` per node pins its address and name to its MAC. The interface and
 * `dhcp-range` are left commented: they depend on the site. Values come from the validated
 * boot settings and plan (URL, MACs, DNS-1123 names, canonical addresses).
 */
export function dnsmasqExample(boot: BootSettings, hosts: DhcpHost[]): string {
  return [
    '# dnsmasq example for k8s-ha iPXE chain-loading: review, then add to /etc/dnsmasq.d/.',
    '# Serve undionly.kpxe and ipxe.efi (Debian package ipxe) from tftp-root.',
    '#interface=eth1',
    '#dhcp-range=198.18.0.0,proxy      # proxy DHCP beside an existing DHCP server, or',
    '#dhcp-range=198.18.0.100,198.18.0.200,12h',
    'enable-tftp',
    'tftp-root=/srv/tftp',
    'dhcp-userclass=set:ipxe,iPXE',
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-match=set:efi64,option:client-arch,9',
    'dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi',
    'dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe',
    `dhcp-boot=tag:ipxe,${boot.configUrl}/ipxe/boot.ipxe`,
    ...hosts.map((host) => `dhcp-host=${host.mac},${bracketIp(host.address)},${host.name}`),
    '',
  ].join('\n');
}

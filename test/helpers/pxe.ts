/**
 * A real PXE boot of a bundle, with Debian's packages only: network namespaces joined by a
 * bridge in its own namespace (198.18.0.0/24), dnsmasq serving DHCP and TFTP, Python's
 * http.server serving the unpacked bundle and the assets, and qemu-system-x86_64 (TCG, no KVM)
 * network-booting through Debian's iPXE ROM (ipxe-qemu), either by iPXE scripts or by
 * lpxelinux.0 (pxelinux, syslinux-common).
 *
 * The OS under `assetsUrl` is a stand-in: Debian's linux-image-cloud-amd64 kernel and a
 * busybox-static initramfs ({@link standInInitramfs}) placed under every asset name the bundle
 * names. Its init prints /proc/cmdline, fetches every config URL the kernel arguments name
 * (`ignition.config.url`, `coreos.inst.ignition_url`, the NoCloud seed's user-data and
 * meta-data) and dumps it in base64 on the serial console, checks the other assets it names
 * (rootfs, ISO) exist, and powers off. The test compares each dump byte for byte with the
 * bundle's file for that MAC.
 *
 * Everything started (processes, namespaces, temporary directories) is stopped in
 * {@link PxeLab.close}, which tests register with t.teardown, so it also runs on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hasTool, reapDeadNamespaces, run, runOk } from './tools.js';

/** Debian packages the PXE test needs, by the file or program it uses. */
export const PXE_PACKAGES: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  '/usr/lib/ipxe/qemu/efi-virtio.rom': 'ipxe-qemu',
  '/usr/lib/PXELINUX/lpxelinux.0': 'pxelinux',
  '/usr/lib/syslinux/modules/bios/ldlinux.c32': 'syslinux-common',
  '/bin/busybox': 'busybox-static',
  dnsmasq: 'dnsmasq-base',
  python3: 'python3',
  ip: 'iproute2',
  '/boot/vmlinuz-*-cloud-amd64': 'linux-image-cloud-amd64',
};

/** The first missing tool or file, as an error message with its apt-get command; or undefined. */
export function missingPxeTool(): string | undefined {
  for (const [tool, pkg] of Object.entries(PXE_PACKAGES)) {
    const present = tool.includes('*') ? cloudKernel() !== undefined : tool.startsWith('/') ? existsSync(tool) : hasTool(tool);
    if (!present) return `${tool} is missing: run \`apt-get install -y ${pkg}\` (the PXE test boots the bundle for real; it does not skip)`;
  }
  return undefined;
}

/** Debian's cloud kernel: the newest /boot/vmlinuz-*-cloud-amd64 and its module directory. */
export function cloudKernel(): { vmlinuz: string; modules: string; version: string } | undefined {
  const versions = existsSync('/boot') ? readdirSync('/boot').filter((f) => /^vmlinuz-.*-cloud-amd64$/.test(f)).map((f) => f.slice('vmlinuz-'.length)).sort() : [];
  const version = versions.filter((v) => existsSync(`/lib/modules/${v}`)).at(-1);
  return version === undefined ? undefined : { vmlinuz: `/boot/vmlinuz-${version}`, modules: `/lib/modules/${version}`, version };
}

/**
 * virtio-net and what it needs, in load order: Debian's cloud kernel builds them as modules
 * (CONFIG_VIRTIO_NET=m, CONFIG_VIRTIO_PCI=m), and busybox insmod resolves no dependencies.
 */
const MODULES = [
  'kernel/drivers/virtio/virtio_ring.ko', 'kernel/drivers/virtio/virtio.ko',
  'kernel/drivers/virtio/virtio_pci_modern_dev.ko', 'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
  'kernel/drivers/virtio/virtio_pci.ko', 'kernel/net/core/failover.ko', 'kernel/drivers/net/net_failover.ko',
  'kernel/drivers/net/virtio_net.ko',
];

/** Marker of every line the stand-in init reports. */
export const REPORT = 'K8SHA-PXE:';

/** The stand-in OS's /init (busybox sh). */
const INIT = `#!/bin/busybox sh
# k8s-ha PXE test stand-in OS: report what the boot line names, then power off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
exec >/dev/ttyS0 2>&1 </dev/null
set -f
say() { echo "${REPORT} $*"; }
say "cmdline $(cat /proc/cmdline)"
for m in ${MODULES.map((m) => m.split('/').at(-1)).join(' ')}; do insmod "/lib/modules/$m" || say "insmod-failed $m"; done
ifconfig lo up
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
ifconfig eth0 up || say "no-eth0"
udhcpc -i eth0 -s /udhcpc.sh -q -n -t 20 -T 1 || say "dhcp-failed"
say "mac $(cat /sys/class/net/eth0/address)"
dump() {
  if wget -q -O /tmp/f "$2"; then say "fetched $1 $2"; echo "K8SHA-PXE-BEGIN $1"; base64 /tmp/f; echo "K8SHA-PXE-END $1"; else say "fetch-failed $1 $2"; fi
}
asset() { if wget -q -O /dev/null "$2"; then say "asset-ok $1 $2"; else say "asset-missing $1 $2"; fi; }
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ignition.config.url=*) dump ignition.config.url "\${arg#*=}" ;;
    coreos.inst.ignition_url=*) dump coreos.inst.ignition_url "\${arg#*=}" ;;
    'ds=nocloud-net;s='*|'ds=nocloud;s='*) seed="\${arg#*;s=}"; dump user-data "\${seed}user-data"; dump meta-data "\${seed}meta-data" ;;
    coreos.live.rootfs_url=*) asset rootfs "\${arg#*=}" ;;
    url=*) asset iso "\${arg#*=}" ;;
  esac
done
say done
poweroff -f
`;

/** busybox udhcpc's event script: configure the lease (udhcpc sets $ip, $subnet, $router). */
const UDHCPC = `#!/bin/busybox sh
case "$1" in
  bound|renew) ifconfig "$interface" "$ip" netmask "$subnet" up ;;
esac
`;

/** One member of a cpio archive. */
interface CpioEntry {
  path: string;
  mode: number;
  data?: Buffer;
}

/** A cpio "newc" archive (the initramfs format, Linux Documentation/driver-api/early-userspace/buffer-format.rst). */
function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const add = (path: string, mode: number, data: Buffer, ino: number) => {
    const name = Buffer.from(`${path}\0`);
    const header = Buffer.from(`070701${[ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0].map(hex).join('')}`);
    parts.push(header, name, pad4(header.length + name.length), data, pad4(data.length));
  };
  entries.forEach((entry, i) => add(entry.path, entry.mode, entry.data ?? Buffer.alloc(0), i + 1));
  add('TRAILER!!!', 0, Buffer.alloc(0), 0);
  return Buffer.concat(parts);
}

/** Where built stand-in images are cached between runs (outside the source tree). */
export const PXE_CACHE = process.env.K8S_HA_TEST_CACHE ? join(process.env.K8S_HA_TEST_CACHE, 'pxe') : '/var/cache/k8s-ha-test/pxe';

/**
 * The stand-in initramfs (gzip-compressed newc cpio): static busybox, /init, the udhcpc script
 * and the virtio-net modules of `kernel`. Built once per content and cached under
 * {@link PXE_CACHE} (keyed by the SHA-256 of its inputs); returns its path.
 */
export function standInInitramfs(kernel: { modules: string }): string {
  const busybox = readFileSync('/bin/busybox');
  const modules = MODULES.map((m) => ({ name: m.split('/').at(-1)!, data: readFileSync(join(kernel.modules, m)) }));
  const key = createHash('sha256').update(INIT).update(UDHCPC).update(busybox);
  for (const m of modules) key.update(m.name).update(m.data);
  const path = join(PXE_CACHE, `initramfs-${key.digest('hex').slice(0, 16)}.cpio.gz`);
  if (existsSync(path)) return path;
  const dirs = ['bin', 'dev', 'lib', 'lib/modules', 'proc', 'sys', 'tmp'];
  const cpio = cpioNewc([
    ...dirs.map((d) => ({ path: d, mode: 0o040755 })),
    { path: 'bin/busybox', mode: 0o100755, data: busybox },
    { path: 'init', mode: 0o100755, data: Buffer.from(INIT) },
    { path: 'udhcpc.sh', mode: 0o100755, data: Buffer.from(UDHCPC) },
    ...modules.map((m) => ({ path: `lib/modules/${m.name}`, mode: 0o100644, data: m.data })),
  ]);
  mkdirSync(PXE_CACHE, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(cpio));
  renameSync(tmp, path);
  return path;
}

let labCounter = 0;

/** Which loader the NIC firmware hands over to: iPXE scripts over HTTP, or lpxelinux.0 over TFTP. */
export type Loader = 'ipxe' | 'pxelinux';

/** One finished VM boot. */
export interface BootResult {
  mac: string;
  /** Serial console output, `\r` removed. */
  serial: string;
  /** Wall time from QEMU's start to its exit (or to the kill at the deadline), ms. */
  ms: number;
  /** True when QEMU exited by itself (the stand-in powered off) before the deadline. */
  poweredOff: boolean;
  /** The stand-in's report lines (without the marker). */
  reports: string[];
  /** Files the stand-in dumped, by label (e.g. `ignition.config.url`, `user-data`). */
  dumps: Map<string, Buffer>;
}

/**
 * The network, the servers and the VMs of one PXE boot test. Server namespace `…-srv`
 * (198.18.0.1/24 on srv0: dnsmasq, HTTP on port 8080), bridge namespace `…-br` (br0, the
 * servers' veth and one tap per VM; QEMU runs here). Call {@link close} in t.teardown.
 */
export class PxeLab {
  readonly srv: string;
  readonly br: string;
  private readonly work: string;
  private readonly procs = new Set<ChildProcess>();
  private taps = 0;
  private httpLog = '';
  private closed = false;

  /**
   * @param webRoot Directory served over HTTP at http://198.18.0.1:8080/ (bundle under `k8s/`,
   *   assets under `assets/`).
   */
  constructor(readonly webRoot: string) {
    const n = 900 + labCounter++;
    this.srv = `k8sha-h${process.pid}-${n}`;
    this.br = `k8sha-h${process.pid}-${n + 50}`;
    this.work = mkdtempSync(join(tmpdir(), 'k8s-ha-pxe-'));
    reapDeadNamespaces();
    try {
      runOk('ip', ['netns', 'add', this.srv]);
      runOk('ip', ['netns', 'add', this.br]);
      runOk('ip', ['-n', this.br, 'link', 'add', 'br0', 'type', 'bridge']);
      runOk('ip', ['-n', this.br, 'link', 'set', 'br0', 'up']);
      runOk('ip', ['-n', this.br, 'link', 'add', 'vsrv', 'type', 'veth', 'peer', 'name', 'srv0', 'netns', this.srv]);
      runOk('ip', ['-n', this.br, 'link', 'set', 'vsrv', 'master', 'br0', 'up']);
      runOk('ip', ['-n', this.srv, 'addr', 'add', '198.18.0.1/24', 'dev', 'srv0']);
      runOk('ip', ['-n', this.srv, 'link', 'set', 'srv0', 'up']);
      runOk('ip', ['-n', this.srv, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Starts the HTTP server (python3 -m http.server) and waits until it answers. */
  async startHttp(): Promise<void> {
    const http = this.start(this.srv, ['python3', '-u', '-m', 'http.server', '--bind', '198.18.0.1', '--directory', this.webRoot, '8080']);
    http.stderr!.on('data', (d: Buffer) => { this.httpLog += d.toString(); });
    http.stdout!.on('data', (d: Buffer) => { this.httpLog += d.toString(); });
    for (let i = 0; i < 100; i++) {
      if (run('ip', ['netns', 'exec', this.srv, 'python3', '-c', 'import urllib.request,sys; urllib.request.urlopen("http://198.18.0.1:8080/", timeout=1)']).code === 0) return;
      await sleep(100);
    }
    throw new Error(`the HTTP server did not answer: ${this.httpLog}`);
  }

  /** HTTP request lines logged so far (`"GET /path HTTP/1.1" 200 -` form). */
  httpRequests(): string[] {
    return this.httpLog.split('\n').filter((line) => /"(GET|HEAD) /.test(line));
  }

  /**
   * Starts dnsmasq (DHCP on 198.18.0.100-200 plus the config's `dhcp-host` pins, TFTP from
   * `tftpRoot`, no DNS) with `conf` lines added; returns the path of its log.
   */
  async startDnsmasq(conf: string[], tftpRoot: string): Promise<string> {
    const log = join(this.work, 'dnsmasq.log');
    const file = join(this.work, 'dnsmasq.conf');
    writeFileSync(file, [
      // user=root: dnsmasq otherwise drops to nobody, who cannot read the private work directories.
      'interface=srv0', 'bind-interfaces', 'port=0', 'user=root', 'dhcp-range=198.18.0.100,198.18.0.200,12h',
      `dhcp-leasefile=${join(this.work, 'leases')}`, `log-facility=${log}`, 'log-dhcp',
      ...conf.filter((line) => !/^(interface|dhcp-range|tftp-root|#)/.test(line) && line !== ''),
      `tftp-root=${tftpRoot}`, '',
    ].join('\n'));
    const dnsmasq = this.start(this.srv, ['dnsmasq', '--keep-in-foreground', `--conf-file=${file}`, `--pid-file=${join(this.work, 'dnsmasq.pid')}`]);
    let stderr = '';
    dnsmasq.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Ready when it logged its TFTP root; a bad config or an unreadable root fails here, not at boot.
    for (let i = 0; i < 100; i++) {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (dnsmasq.exitCode !== null || /inaccessible|FAILED|failed to/.test(text)) throw new Error(`dnsmasq did not start: ${stderr}${text}`);
      if (text.includes('TFTP root is')) return log;
      await sleep(100);
    }
    throw new Error(`dnsmasq did not start within 10 s: ${stderr}`);
  }

  /**
   * Network-boots one VM with NIC `mac` through QEMU's iPXE ROM and waits for it to power off,
   * or kills it at `deadlineMs`; with `until`, also kills it 2 s after `until()` first holds
   * (polled every 0.5 s: for a VM that is expected never to power off).
   */
  async boot(mac: string, deadlineMs: number, until?: () => boolean): Promise<BootResult> {
    const tap = `tap${this.taps++}`;
    runOk('ip', ['-n', this.br, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    runOk('ip', ['-n', this.br, 'link', 'set', tap, 'master', 'br0', 'up']);
    const serialFile = join(this.work, `serial-${mac.replaceAll(':', '-')}.log`);
    const started = Date.now();
    const qemu = this.start(this.br, [
      'qemu-system-x86_64', '-accel', 'tcg', '-m', '256', '-smp', '1', '-display', 'none',
      '-no-reboot', '-boot', 'n', '-serial', `file:${serialFile}`, '-monitor', 'none',
      '-netdev', `tap,id=net0,ifname=${tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=net0,mac=${mac}`,
    ]);
    let stderr = '';
    qemu.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = await new Promise<boolean>((resolve) => {
      const stop = () => { clearTimeout(timer); clearInterval(poll); qemu.kill('SIGKILL'); resolve(false); };
      const timer = setTimeout(stop, deadlineMs);
      const poll = setInterval(() => { if (until?.()) { clearInterval(poll); setTimeout(stop, 2000); } }, 500);
      qemu.on('exit', () => { clearTimeout(timer); clearInterval(poll); resolve(true); });
    });
    const ms = Date.now() - started;
    this.procs.delete(qemu);
    const serial = existsSync(serialFile) ? readFileSync(serialFile, 'latin1').replaceAll('\r', '') : '';
    if (exited && stderr.trim() !== '' && !serial.includes(REPORT)) throw new Error(`qemu failed: ${stderr}`);
    return { mac, serial, ms, poweredOff: exited, ...parseSerial(serial) };
  }

  /** Starts `argv` inside namespace `ns`, tracked for {@link close}. */
  private start(ns: string, argv: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.resume();
    this.procs.add(child);
    child.on('exit', () => this.procs.delete(child));
    return child;
  }

  /** Stops every process this lab started, deletes its namespaces and its work directory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const child of this.procs) child.kill('SIGKILL');
    this.procs.clear();
    run('ip', ['netns', 'del', this.br]);
    run('ip', ['netns', 'del', this.srv]);
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** The stand-in's reports and base64 dumps in a serial log. */
export function parseSerial(serial: string): { reports: string[]; dumps: Map<string, Buffer> } {
  const lines = serial.split('\n');
  const reports = lines.filter((line) => line.startsWith(`${REPORT} `)).map((line) => line.slice(REPORT.length + 1));
  const dumps = new Map<string, Buffer>();
  for (let i = 0; i < lines.length; i++) {
    const begin = /^K8SHA-PXE-BEGIN (\S+)$/.exec(lines[i]!);
    if (!begin) continue;
    const end = lines.indexOf(`K8SHA-PXE-END ${begin[1]}`, i);
    if (end < 0) break;
    dumps.set(begin[1]!, Buffer.from(lines.slice(i + 1, end).join(''), 'base64'));
    i = end;
  }
  return { reports, dumps };
}

/** Copies `file` to every name in `names` under `dir`. */
export function placeAs(file: string, dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const name of names) copyFileSync(file, join(dir, name));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

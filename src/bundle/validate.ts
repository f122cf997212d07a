import { BundleError } from './errors.js';

/**
 * Checks for every value the bundle inserts into boot scripts (iPXE, pxelinux, kernel command
 * lines, dnsmasq). These formats have no quoting we can rely on, so values that would change
 * a script's meaning are rejected instead of escaped.
 */

/**
 * Characters never allowed in an inserted URL or kernel argument: whitespace and control
 * characters (split or end the line), quotes and backslash (quoting in GRUB/pxelinux/shells),
 * `$` and braces (iPXE `${var}` expansion), `#` (comments in iPXE/dnsmasq), `<`, `>`, `|`, `&`
 * and backtick (iPXE `||`/`&&` and shells).
 */
const UNSAFE = /[\s\x00-\x1f\x7f"'\\$`{}#<>|&]/;

/**
 * Validates a base URL such as `boot.assetsUrl` and returns it without trailing slashes, so
 * callers can append `/path`.
 * @throws BundleError unless the value is an absolute http:// or https:// URL with a host, no
 *   query or fragment, and none of the unsafe characters; `;` is also refused because a
 *   NoCloud `ds=nocloud;s=URL` argument ends at the next `;`.
 */
export function checkBaseUrl(value: string, field: string): string {
  const hint = 'an absolute http:// or https:// URL without spaces, quotes, ;, $ or #, e.g. http://198.18.0.1:8080/k8s';
  if (UNSAFE.test(value) || value.includes(';')) {
    throw new BundleError('E_BOOT', field, `${JSON.stringify(value)} contains a character that is not safe in a boot script`, hint);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BundleError('E_BOOT', field, `${JSON.stringify(value)} is not a URL`, hint);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    throw new BundleError('E_BOOT', field, `${JSON.stringify(value)} must use http or https`, hint);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new BundleError('E_BOOT', field, `${JSON.stringify(value)} must not carry a query or fragment`, hint);
  }
  return value.replace(/\/+$/, '');
}

/**
 * Validates one extra kernel argument (`boot.kernelArgs[i]`): a single, non-empty token.
 * @throws BundleError on whitespace, quotes, `;` (a lone `;` ends an iPXE command, ipxe
 *   src/core/exec.c) or any other unsafe character.
 */
export function checkKernelArg(value: string, field: string): string {
  if (value === '' || UNSAFE.test(value) || value.includes(';')) {
    throw new BundleError('E_BOOT', field, `${JSON.stringify(value)} is not a single kernel argument`,
      'one token per list item, without spaces, quotes, ;, $, # or control characters, e.g. "console=ttyS0,115200n8"');
  }
  return value;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Validates a MAC address in the canonical form the plan carries (`aa:bb:cc:dd:ee:ff`,
 * lower case) and returns the hyphenated form iPXE's `${mac:hexhyp}` and pxelinux use
 * (`aa-bb-cc-dd-ee-ff`).
 * @throws BundleError when `mac` is not six lower-case hex pairs joined by colons.
 */
export function macHyphens(mac: string, field: string): string {
  if (!MAC.test(mac)) {
    throw new BundleError('E_FORMAT', field, `${JSON.stringify(mac)} is not a MAC address`, 'six hex pairs, e.g. 52:54:00:12:34:56');
  }
  return mac.replaceAll(':', '-');
}

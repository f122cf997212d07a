import { BOOT_URL_RULE, KERNEL_ARG_RULE, bootUrlProblem, isKernelArg } from '../profile/values.js';
import { fail, type FieldPath } from '../profile/errors.js';

/**
 * Checks for every value the bundle inserts into boot scripts (iPXE, pxelinux, kernel command
 * lines, dnsmasq). These formats have no quoting we can rely on, so values that would change
 * a script's meaning are rejected instead of escaped. The profile schema applies the same
 * rules when a profile loads (so `check` reports them with line:col); these run again on the
 * plan the bundle gets, which may come from elsewhere than a profile file.
 */

/**
 * Validates a base URL such as `boot.assetsUrl` (the rule: profile/values.ts bootUrlProblem,
 * which the profile schema applies too) and returns it without trailing slashes, so callers
 * can append `/path`.
 * @throws ProblemError naming `field` when the value is not a safe http(s) base URL.
 */
export function checkBaseUrl(value: string, field: FieldPath): string {
  const problem = bootUrlProblem(value);
  if (problem !== undefined) fail('E_BOOT', field, `${JSON.stringify(value)} ${problem}`, BOOT_URL_RULE);
  return value.replace(/\/+$/, '');
}

/**
 * Validates one extra kernel argument (`boot.kernelArgs[i]`): a single, non-empty token
 * (profile/values.ts isKernelArg, which the profile schema applies too).
 * @throws ProblemError naming `field` otherwise.
 */
export function checkKernelArg(value: string, field: FieldPath): string {
  if (!isKernelArg(value)) fail('E_BOOT', field, `${JSON.stringify(value)} is not a single kernel argument`, KERNEL_ARG_RULE);
  return value;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Validates a MAC address in the canonical form the plan carries (`aa:bb:cc:dd:ee:ff`,
 * lower case) and returns the hyphenated form iPXE's `${mac:hexhyp}` and pxelinux use
 * (`aa-bb-cc-dd-ee-ff`).
 * @throws ProblemError when `mac` is not six lower-case hex pairs joined by colons.
 */
export function macHyphens(mac: string, field: FieldPath): string {
  if (!MAC.test(mac)) {
    fail('E_FORMAT', field, `${JSON.stringify(mac)} is not a MAC address`, 'six hex pairs, e.g. 52:54:00:12:34:56');
  }
  return mac.replaceAll(':', '-');
}

import { table } from '../table.js';
import { fail } from '../profile/errors.js';

/**
 * User-data size limits of common platforms, in bytes of raw (not base64-encoded) user-data,
 * smallest first: AWS EC2 16 KiB (EC2 User Guide, "user data is limited to 16 KB, in raw
 * form"), CloudStack 32 KiB and OpenStack 64 KiB (their defaults count the base64 text, so
 * there the raw budget is about 3/4 of it).
 */
export const USER_DATA_LIMITS = [
  { platform: 'AWS', bytes: 16 * 1024 },
  { platform: 'CloudStack', bytes: 32 * 1024 },
  { platform: 'OpenStack', bytes: 64 * 1024 },
] as const;

/** A node's user-data size in bytes (UTF-8). */
export interface UserDataSize {
  node: string;
  bytes: number;
}

/** The size of a user-data text in bytes (what the platforms count). */
export const userDataBytes = (userData: string): number => Buffer.byteLength(userData, 'utf8');

/**
 * A plain-text table, one line per node: name, user-data bytes, and `ok` or `OVER` for each
 * of {@link USER_DATA_LIMITS}. Rows in the given order; for a cluster of many same-shaped
 * workers callers may pass only the largest of each role.
 */
export function budgetReport(sizes: UserDataSize[]): string {
  const header = ['node', 'user-data bytes', ...USER_DATA_LIMITS.map((limit) => `${limit.platform} ${limit.bytes / 1024} KiB`)];
  const rows = sizes.map((size) => [
    size.node, String(size.bytes), ...USER_DATA_LIMITS.map((limit) => (size.bytes <= limit.bytes ? 'ok' : 'OVER')),
  ]);
  return `${table([header, ...rows])}\n`;
}

/**
 * Fails when a node's user-data is larger than `max` bytes (`--max-user-data`).
 * @throws ProblemError (field `--max-user-data`) naming the node, its size and the limit.
 */
export function checkMaxUserData(size: UserDataSize, max: number | undefined): void {
  if (max !== undefined && size.bytes > max) {
    fail('E_USER_DATA_SIZE', ['--max-user-data'], `user-data of node ${size.node} is ${size.bytes} bytes, over the limit of ${max}`,
      'move large files out of user-data, or raise --max-user-data if your platform allows it');
  }
}

/**
 * Memoisation of pure string functions across the nodes of one run: most files are the same
 * on every node (haproxy.cfg, the check script, the static pods), so their encodings (gzip,
 * base64, data URLs) are computed once. Results are keyed by the whole input string, so a hit
 * returns exactly what a fresh call would: output stays deterministic.
 */

/**
 * Wraps `fn` (pure: same string in, same value out) with a cache of the last `max` distinct
 * inputs (oldest evicted first), so memory stays bounded for clusters of any size.
 */
export function memoByString<T>(fn: (s: string) => T, max = 64): (s: string) => T {
  const cache = new Map<string, T>();
  return (s: string) => {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const v = fn(s);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(s, v);
    return v;
  };
}

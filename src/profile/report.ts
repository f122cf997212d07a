/**
 * How profile values and source lines appear in reports, without ever revealing a secret or
 * letting a control character from a profile reach the terminal.
 *
 * {@link isSecretPath} names the fields whose values must never be shown; {@link showValue}
 * and {@link sourceExcerpt} apply it (the source line of a secret is cut after the caret), and
 * any `authPass`/`token`/`key`-like assignment on a shown source line is masked too.
 */

import type { FieldPath } from './errors.js';
import type { SourcePos } from './source-map.js';

/**
 * Field names whose values are secrets: the VRRP password and anything named like a token,
 * key or password (`authPass`, `token`, `certificateKey`, `password`, `secret`...). Matching is
 * on the last string element of the path, case-insensitive. `authPassFile` (a file NAME) is
 * not a secret.
 */
export const SECRET_FIELD = /^(?!.*file$).*(pass|passwd|password|token|secret|key)$/i;

/** True when the value at `path` must never be shown (see {@link SECRET_FIELD}). */
export function isSecretPath(path: FieldPath): boolean {
  const last = [...path].reverse().find((p): p is string => typeof p === 'string');
  return last !== undefined && SECRET_FIELD.test(last);
}

/** Longest value text shown in a message (code points); longer values are cut with `...`. */
export const MAX_SHOWN = 60;

/**
 * A value as it may appear in a message: `<redacted>` for secret paths; strings JSON-quoted
 * (so newlines, quotes and control characters show as escapes), with every non-ASCII
 * character escaped as `\u{...}` (so look-alikes such as Cyrillic `а` stand out) and cut after
 * {@link MAX_SHOWN} characters; arrays and tables named as such; other values as written.
 */
export function showValue(path: FieldPath, value: unknown): string {
  if (isSecretPath(path)) return '<redacted>';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'a table';
  if (typeof value !== 'string') return String(value);
  const chars = [...value];
  const cut = chars.length > MAX_SHOWN ? chars.slice(0, MAX_SHOWN).join('') : value;
  const shown = JSON.stringify(cut).replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  return chars.length > MAX_SHOWN ? `${shown}... (${chars.length} characters)` : shown;
}

/**
 * Masks the value of every secret-named `key = value` / `key: value` on a source line and
 * returns the masked line and where UTF-16 offset `at` of the original line ended up in it
 * (inside a masked value: the start of `<redacted>`), so a caret stays under its value.
 */
function maskSecrets(line: string, at: number): { text: string; at: number } {
  let moved = at;
  const text = line.replace(
    // The lookbehind lets a match start only at the start of a key: linear on any line.
    /(?<![A-Za-z0-9_"'-])(["']?)([A-Za-z0-9_-]+)\1(\s*[=:]\s*)("(?:[^"\\]|\\.)*"?|'[^']*'?|[^,{}[\]#\s][^,}\]#\s]*)/g,
    (all: string, q: string, key: string, sep: string, value: string, offset: number) => {
      if (!SECRET_FIELD.test(key)) return all;
      const masked = `${q}${key}${q}${sep}<redacted>`;
      const valueAt = offset + all.length - value.length;
      if (offset + all.length <= at) moved += masked.length - all.length;
      else if (valueAt <= at) moved -= at - valueAt;
      return masked;
    },
  );
  return { text, at: moved };
}

/** Replaces control characters (terminal escapes, NUL...) of a shown source line, keeps tabs. */
const printable = (s: string): string => s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, '?');

/**
 * The source line at `pos` and a caret under `pos.col`, each indented two spaces (no trailing
 * newline), for the report of a problem at `path`:
 *
 * ```
 *   address = "172.16.217"
 *             ^
 * ```
 *
 * The line is shown with control characters replaced by `?` (no terminal escapes from a
 * profile reach the screen), every secret-named assignment masked, and, when `path` itself is
 * secret, cut at the caret. Returns `undefined` when `pos.line` is not in `text`.
 */
export function sourceExcerpt(text: string, pos: SourcePos, path: FieldPath): string | undefined {
  const src = text.split('\n')[pos.line - 1]?.replace(/\r$/, '');
  if (src === undefined) return undefined;
  const at = [...src].slice(0, pos.col - 1).join('').length;
  // A secret's own value is cut at the caret, unless the caret is on a key or table header
  // (the position of a missing field's parent), where masking assignments is enough.
  const onKey = /^(\[|["']?[A-Za-z0-9_-]+["']?\s*[=:])/.test(src.slice(at));
  const masked = isSecretPath(path) && !onKey ? { text: `${src.slice(0, at)}<redacted>`, at } : maskSecrets(src, at);
  const shown = around(masked.text, masked.at);
  const pad = [...shown.text.slice(0, shown.at)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  return `  ${printable(shown.text)}\n  ${pad}^`;
}

/** Longest source line shown (code points); longer ones are cut to a window around the caret. */
export const MAX_LINE = 160;

/** Cuts `line` to {@link MAX_LINE} code points around UTF-16 offset `at`, marking cuts with `…`. */
function around(line: string, at: number): { text: string; at: number } {
  const chars = [...line];
  if (chars.length <= MAX_LINE) return { text: line, at };
  const col = [...line.slice(0, at)].length;
  const start = Math.max(0, Math.min(col - 40, chars.length - MAX_LINE));
  const head = start > 0 ? '…' : '';
  const tail = start + MAX_LINE < chars.length ? '…' : '';
  return { text: head + chars.slice(start, start + MAX_LINE).join('') + tail, at: (head + chars.slice(start, col).join('')).length };
}

/**
 * A small typed model for line-oriented config files (keepalived.conf, haproxy.cfg).
 *
 * A config is a list of statements; each statement is a list of words. Every word is checked
 * against a whitelist before it is written, so no value, however it reached us, can add a line,
 * open or close a block, start a comment or break out of a quoted string. The profile schema
 * already refuses such values with a friendly message; this is the second, structural guard.
 */

import { fail } from '../profile/errors.js';

/** A statement: words on one line, optionally followed by a `{ … }` block (keepalived style). */
export interface Stmt {
  words: string[];
  block?: Stmt[];
}

/** A haproxy.cfg section: a header line (`backend kube-apiservers`) and indented statements. */
export interface Section {
  header: string[];
  body: Stmt[];
}

/** Characters allowed in a word: no white space, quotes, braces, `#`, `!`, `\`, `$` or backtick. */
const WORD = /^[A-Za-z0-9_.,:;/@%+=*^~[\]<>|&()-]+$/;

/** Refuses a value that should have been rejected earlier and reached a config model: problem E015. */
function refuse(value: string, where: string): never {
  fail('E_UNSAFE', [], `refusing to write unsafe value ${JSON.stringify(value)} into ${where}`, undefined, 'k8s-ha', '');
}

/** Checks one word; returns it unchanged. @throws ProblemError (E015) */
export function word(value: string | number, where = 'a config file'): string {
  const s = String(value);
  if (!WORD.test(s)) refuse(s, where);
  return s;
}

/** A double-quoted word (keepalived `script "…"`): the inside must itself be safe words. */
export function quoted(value: string, where = 'a config file'): string {
  for (const w of value.split(' ')) word(w, where);
  return `"${value}"`;
}

/** A comment line (`! text` in keepalived.conf, `# text` in haproxy.cfg); no line breaks. */
export function commentText(text: string): string {
  if (/[\r\n\u0000]/.test(text)) refuse(text, 'a comment');
  return text;
}

function stmtLines(s: Stmt, indent: string, lines: string[]): void {
  const head = s.words.join(' ');
  if (s.block === undefined) {
    lines.push(indent + head);
    return;
  }
  lines.push(`${indent}${head} {`);
  for (const inner of s.block) stmtLines(inner, indent + '    ', lines);
  lines.push(`${indent}}`);
}

/** Renders keepalived.conf text: `!` comment header, blocks with 4-space indent, blank line between top-level statements. */
export function renderKeepalived(comments: string[], stmts: Stmt[]): string {
  const out: string[] = comments.map((c) => `! ${commentText(c)}`);
  for (const s of stmts) {
    out.push('');
    stmtLines(s, '', out);
  }
  return out.join('\n') + '\n';
}

/** Renders haproxy.cfg text: `#` comment header, section headers flush left, statements indented 4. */
export function renderHaproxy(comments: string[], sections: Section[]): string {
  const out: string[] = comments.map((c) => `# ${commentText(c)}`);
  for (const sec of sections) {
    out.push('', sec.header.join(' '));
    for (const s of sec.body) stmtLines(s, '    ', out);
  }
  return out.join('\n') + '\n';
}

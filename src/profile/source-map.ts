/**
 * Map a field path of a parsed profile back to a line:col in its source text, so problems can
 * be reported the way Butane does (report.ts shows the line and a caret; errors.ts assembles
 * the report).
 *
 * Neither parser keeps positions on the values it returns (@iarna/toml gives none at all;
 * `yaml` keeps them only on its Document nodes), so this module indexes the source once per
 * call: YAML through `yaml`'s `parseDocument` node ranges, TOML through a small scanner that
 * understands what profiles use: `[table]`, `[[array.of.tables]]` (counting indices), dotted
 * and quoted keys, strings of all four kinds, arrays and inline tables. The scanner never
 * throws: on text it does not understand it returns what it indexed so far.
 */

import { isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { FieldPath } from './errors.js';

/** 1-based position in the source text; `col` counts Unicode code points. */
export interface SourcePos {
  line: number;
  col: number;
}

/** Offsets (UTF-16 indices into the text) of one indexed entry. */
interface Entry {
  /** Start of the key (or of the `[table]` header); absent for array elements. */
  key?: number;
  /** Start of the value; for tables, the header. */
  value: number;
  /** True when the value is present but empty (YAML `port:`): report the key instead. */
  empty?: boolean;
}

type Index = Map<string, Entry>;

const pathKey = (path: FieldPath): string => JSON.stringify(path);

/**
 * Position of the value at `path` in `text` (1-based line and column).
 *
 * - `target: 'value'` (default): where the value starts; for an empty YAML value, the key.
 * - `target: 'key'`: where the key starts (e.g. for an unknown key); the value for array items.
 *
 * When `path` does not exist (a missing required field), the position of its deepest existing
 * ancestor is returned: the `[[nodes]]` header of `nodes[1]` in TOML, the `vip:` key or the
 * `- ` item in YAML. Returns `undefined` when not even the first path element is in the text.
 * Never throws.
 */
export function locate(
  text: string,
  format: 'toml' | 'yaml',
  path: FieldPath,
  target: 'value' | 'key' = 'value',
): SourcePos | undefined {
  let index: Index;
  try {
    index = indexOf(text, format);
  } catch {
    return undefined;
  }
  for (let n = path.length; n > 0; n--) {
    const entry = index.get(pathKey(path.slice(0, n)));
    if (!entry) continue;
    const exact = n === path.length;
    const useKey = entry.key !== undefined && (entry.empty || !exact || target === 'key');
    return offsetToPos(text, useKey ? entry.key! : entry.value);
  }
  return undefined;
}

/** The index of the last text seen: a report locates every problem of one profile. */
let memo: { text: string; format: string; index: Index } | undefined;
function indexOf(text: string, format: 'toml' | 'yaml'): Index {
  if (memo?.text !== text || memo.format !== format)
    memo = { text, format, index: format === 'toml' ? indexToml(text) : indexYaml(text) };
  return memo.index;
}

/** Converts a UTF-16 offset into a 1-based line and code-point column. */
function offsetToPos(text: string, offset: number): SourcePos {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  return { line, col: [...before.slice(lineStart)].length + 1 };
}

// ---------------------------------------------------------------------------------------------
// YAML

function indexYaml(text: string): Index {
  const index: Index = new Map();
  const doc = parseDocument(text);
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (typeof k !== 'string' && typeof k !== 'number') continue;
        const sub = [...path, String(k)];
        const keyOff = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        const v = pair.value as { range?: [number, number, number]; value?: unknown; source?: string } | null;
        const empty = !v || !v.range || (isScalar(v) && v.value === null && v.source === '');
        index.set(pathKey(sub), { key: keyOff, value: v?.range?.[0] ?? keyOff ?? 0, empty });
        walk(v, sub);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const r = (item as { range?: [number, number, number] } | null)?.range;
        if (r) index.set(pathKey([...path, i]), { value: r[0] });
        walk(item, [...path, i]);
      });
    }
  };
  walk(doc.contents, []);
  return index;
}


// ---------------------------------------------------------------------------------------------
// TOML

/**
 * Indexes a TOML document: every table header, key/value, array element and inline-table
 * entry gets its offsets under its full path (arrays of tables with their element index).
 */
function indexToml(text: string): Index {
  const index: Index = new Map();
  const aotCount = new Map<string, number>();
  let i = 0;
  let table: (string | number)[] = [];

  const peek = (s: string): boolean => text.startsWith(s, i);
  const skipWs = (newlines: boolean): void => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) i++;
      else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else return;
    }
  };
  const fail = (): never => {
    throw new TomlScanStop();
  };

  /** A string at i (any of the four kinds); returns its decoded value (keys only need it). */
  const readString = (): string => {
    const q = text[i]!;
    const triple = peek(q.repeat(3));
    const delim = triple ? q.repeat(3) : q;
    i += delim.length;
    let out = '';
    while (i < text.length) {
      if (peek(delim)) {
        i += delim.length;
        while (triple && text[i] === q) (out += q), i++; // up to two quotes may close early
        return out;
      }
      const c = text[i]!;
      if (!triple && c === '\n') fail();
      if (q === '"' && c === '\\') {
        out += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    return fail();
  };

  /** A dotted key at i: segments with the offset each starts at. */
  const readKey = (): { seg: string; at: number }[] => {
    const segs: { seg: string; at: number }[] = [];
    for (;;) {
      skipWs(false);
      const at = i;
      if (text[i] === '"' || text[i] === "'") {
        const raw = readString();
        segs.push({ seg: text[at] === '"' ? unescapeBasic(raw) : raw, at });
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
        if (!m) fail();
        segs.push({ seg: m![0], at });
        i += m![0].length;
      }
      skipWs(false);
      if (text[i] !== '.') return segs;
      i++;
    }
  };

  const readValue = (path: (string | number)[]): void => {
    const c = text[i];
    if (c === '"' || c === "'") readString();
    else if (c === '[') {
      i++;
      for (let n = 0; ; n++) {
        skipWs(true);
        if (text[i] === ']') break;
        index.set(pathKey([...path, n]), { value: i });
        readValue([...path, n]);
        skipWs(true);
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail();
      }
      i++;
    } else if (c === '{') {
      i++;
      for (;;) {
        skipWs(true);
        if (text[i] === '}') break;
        readKeyVal(path);
        skipWs(true);
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail();
      }
      i++;
    } else {
      const m = /^[^\s,\]}#]+/.exec(text.slice(i, i + 256));
      if (!m) fail();
      i += m![0].length;
    }
  };

  const readKeyVal = (base: (string | number)[]): void => {
    const segs = readKey();
    if (text[i] !== '=') fail();
    i++;
    skipWs(false);
    const path = [...base];
    for (const { seg, at } of segs) {
      path.push(seg);
      if (!index.has(pathKey(path))) index.set(pathKey(path), { key: at, value: at });
    }
    index.set(pathKey(path), { key: segs.at(-1)!.at, value: i });
    readValue(path);
  };

  try {
    for (;;) {
      skipWs(true);
      if (i >= text.length) break;
      if (text[i] === '[') {
        const at = i;
        const aot = peek('[[');
        i += aot ? 2 : 1;
        const segs = readKey();
        if (!peek(aot ? ']]' : ']')) fail();
        i += aot ? 2 : 1;
        // Resolve the header: a prefix naming an array of tables means its last element.
        table = [];
        segs.forEach(({ seg }, n) => {
          table.push(seg);
          const count = aotCount.get(pathKey(table));
          if (!index.has(pathKey(table))) index.set(pathKey(table), { key: at, value: at });
          if (n === segs.length - 1 && aot) {
            aotCount.set(pathKey(table), (count ?? 0) + 1);
            table.push(count ?? 0);
          } else if (count !== undefined) table.push(count - 1);
        });
        index.set(pathKey(table), { key: at, value: at });
      } else readKeyVal(table);
    }
  } catch (e) {
    if (!(e instanceof TomlScanStop)) throw e;
  }
  return index;
}

class TomlScanStop extends Error {}

/** Decodes the escapes of a TOML basic string (keys only; invalid escapes stay as written). */
function unescapeBasic(raw: string): string {
  const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
  return raw.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (all, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return simple[e] ?? all;
  });
}

/**
 * Map a field path of a parsed profile back to a line:col in its source text, so problems can
 * be reported the way Butane does (report.ts shows the line and a caret; errors.ts assembles
 * the report).
 *
 * Neither parser that reads profiles keeps positions on the values it returns (@iarna/toml
 * gives none at all; `yaml` keeps them only on its Document nodes), so this module indexes the
 * source once per {@link locator}: YAML through `yaml`'s `parseDocument` node ranges, TOML
 * through the TOML 1.0 AST of toml-eslint-parser (keys of every form, arrays of tables with
 * their indices, inline tables, multi-line strings).
 */

import { parseTOML, type AST } from 'toml-eslint-parser';
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
  return locator(text, format)(path, target);
}

/**
 * {@link locate} for many paths of one text: indexes `text` once and returns the lookup.
 * Never throws; text that does not parse locates nothing.
 */
export function locator(text: string, format: 'toml' | 'yaml'): (path: FieldPath, target?: 'value' | 'key') => SourcePos | undefined {
  let index: Index;
  try {
    index = format === 'toml' ? indexToml(text) : indexYaml(text);
  } catch {
    return () => undefined;
  }
  return (path, target = 'value') => {
    for (let n = path.length; n > 0; n--) {
      const entry = index.get(pathKey(path.slice(0, n)));
      if (!entry) continue;
      const exact = n === path.length;
      const useKey = entry.key !== undefined && (entry.empty || !exact || target === 'key');
      return offsetToPos(text, useKey ? entry.key! : entry.value);
    }
    return undefined;
  };
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

type TomlNode = AST.TOMLContentNode;

/**
 * Indexes a TOML document from toml-eslint-parser's TOML 1.0 AST: every table header (arrays of
 * tables under their element index, the AST's `resolvedKey`), key/value, dotted-key prefix,
 * array element and inline-table entry gets its offsets under its full path. The AST's ranges
 * are UTF-16 offsets, which {@link offsetToPos} turns into code-point columns.
 * @throws the parser's error for text that is not TOML (locate returns undefined then).
 */
function indexToml(text: string): Index {
  const index: Index = new Map();
  const setOnce = (path: FieldPath, entry: Entry) => {
    if (!index.has(pathKey(path))) index.set(pathKey(path), entry);
  };
  const walk = (node: TomlNode, path: FieldPath): void => {
    if (node.type === 'TOMLArray') {
      node.elements.forEach((e, i) => {
        setOnce([...path, i], { value: e.range[0] });
        walk(e, [...path, i]);
      });
    } else if (node.type === 'TOMLInlineTable') {
      for (const kv of node.body) keyValue(kv, path);
    }
  };
  const keyValue = (kv: AST.TOMLKeyValue, base: FieldPath): void => {
    const parts = kv.key.keys;
    const names = parts.map((k) => (k.type === 'TOMLBare' ? k.name : k.value));
    // `a.b.c = 1` also defines tables `a` and `a.b`, reported at the key part that names them.
    for (let n = 1; n < names.length; n++) setOnce([...base, ...names.slice(0, n)], { key: parts[n - 1]!.range[0], value: parts[n - 1]!.range[0] });
    const path = [...base, ...names];
    setOnce(path, { key: parts[parts.length - 1]!.range[0], value: kv.value.range[0] });
    walk(kv.value, path);
  };
  for (const top of parseTOML(text).body) {
    for (const item of top.body) {
      if (item.type === 'TOMLKeyValue') {
        keyValue(item, []);
        continue;
      }
      const path = item.resolvedKey;
      const at = item.range[0];
      // `[[nodes]]` is also where `nodes` itself is: its first header.
      for (let n = 1; n < path.length; n++) setOnce(path.slice(0, n), { key: at, value: at });
      setOnce(path, { key: at, value: at });
      for (const kv of item.body) keyValue(kv, path);
    }
  }
  return index;
}

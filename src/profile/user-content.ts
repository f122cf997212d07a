/**
 * The profile's access and user-content keys, applied to a resolved plan:
 * - `[ssh]` (+ `nodes[].ssh`): the login user and authorized keys of every node;
 * - `[userContent]` (+ `nodes[].userContent`): the user's own `#cloud-config` and Ignition
 *   files, read (relative to the profile), validated and checked for collisions with what
 *   k8s-ha manages, so the formats can merge them with the consumers' own mechanisms
 *   (cloud-init MIME multipart + merge_how, Ignition `ignition.config.merge`).
 * Every problem names the profile key and, for a problem inside a user file, that file with
 * line:col.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, extname, posix, resolve as resolvePath } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import { managedPaths } from '../components/index.js';
import type { Plan, UserPart } from '../model.js';
import { error, warning, type FieldPath, type Problem } from './errors.js';
import type { RawProfile } from './schema.js';
import { DEBIAN_IGNITION, specsNewerThanRelease, USER_IGNITION_VERSIONS } from '../versions.js';

/** cloud-config keys k8s-ha sets itself (the node name is the hostname) or that would change how parts merge. */
export const OWNED_CLOUD_CONFIG_KEYS: Record<string, string> = {
  hostname: 'k8s-ha sets hostname to the node name (nodes[].name)',
  fqdn: 'k8s-ha sets the hostname to the node name (nodes[].name)',
  prefer_fqdn_over_hostname: 'k8s-ha sets the hostname to the node name (nodes[].name)',
  merge_how: 'k8s-ha chooses how the parts merge (its own part appends lists after yours)',
  merge_type: 'k8s-ha chooses how the parts merge (its own part appends lists after yours)',
};


/** Where a plan node's keys sit in the profile: `nodes[i]` or `workers[i]`. */
function nodeField(raw: RawProfile, index: number): FieldPath {
  const n = raw.nodes.length;
  return index < n ? ['nodes', index] : ['workers', index - n];
}

/**
 * Resolves `[ssh]` and `[userContent]` (cluster-wide and per node) onto the plan's nodes.
 * @param profileFile the profile's path; user files are relative to its directory.
 * @returns every problem found (errors and warnings); the plan is changed in place.
 */
export function applyAccessAndUserContent(profileFile: string, raw: RawProfile, plan: Plan): Problem[] {
  const problems: Problem[] = [];
  const hosts = [...raw.nodes, ...(raw.workers ?? [])];
  const managed = managedPaths(plan);
  const cache = new Map<string, UserPart | undefined>();
  const read = (kind: 'cloudConfig' | 'ignition', field: FieldPath, file: string): UserPart | undefined => {
    const key = `${kind}\0${file}`;
    if (!cache.has(key)) {
      const before = problems.length;
      const part = kind === 'cloudConfig' ? readCloudConfig(profileFile, field, file, managed, problems) : readIgnition(profileFile, field, file, managed, problems);
      cache.set(key, problems.slice(before).some((p) => p.severity === 'error') ? undefined : part);
    }
    return cache.get(key);
  };
  const cluster = raw.userContent ?? {};
  plan.nodes.forEach((node, i) => {
    const at = nodeField(raw, i);
    const own = hosts[i]!;
    const keys = [...new Set([...(raw.ssh?.authorizedKeys ?? []), ...(own.ssh?.authorizedKeys ?? [])])];
    if (keys.length > 0) node.ssh = raw.ssh?.user !== undefined ? { user: raw.ssh.user, authorizedKeys: keys } : { authorizedKeys: keys };
    else if (raw.ssh?.user !== undefined)
      problems.push(error('E_SSH_KEY', ['ssh', 'authorizedKeys'], `node ${node.name} gets login user "${raw.ssh.user}" but no key to log in with`, 'add ssh.authorizedKeys (or nodes[].ssh.authorizedKeys): k8s-ha never sets a password'));
    const parts = { cloudConfig: [] as UserPart[], ignition: [] as UserPart[] };
    for (const kind of ['cloudConfig', 'ignition'] as const) {
      const sources: [FieldPath, string | undefined][] = [
        [['userContent', kind], cluster[kind]],
        [[...at, 'userContent', kind], own.userContent?.[kind]],
      ];
      for (const [field, file] of sources) {
        if (file === undefined) continue;
        const part = read(kind, field, file);
        if (part) parts[kind].push(part);
      }
    }
    if (parts.cloudConfig.length + parts.ignition.length > 0) node.userContent = parts;
  });
  return problems;
}

/** Reads a user file relative to the profile; a problem (and undefined) when it cannot. */
function readUserFile(profileFile: string, field: FieldPath, file: string, problems: Problem[]): string | undefined {
  try {
    return readFileSync(resolvePath(dirname(profileFile), file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(error('E_READ', field, `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`, 'a path relative to the profile\'s directory'));
    return undefined;
  }
}

/** `file:line:col` of an offset in a YAML text. */
function yamlPlace(file: string, lc: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return file;
  const { line, col } = lc.linePos(offset);
  return `${file}:${line}:${col}`;
}

/** A path as Linux resolves it textually (`/etc//k8s-ha/./x` -> `/etc/k8s-ha/x`), for collision checks. */
function normalPath(p: string): string {
  return posix.normalize(p).replace(/(.)\/$/, '$1');
}

/** The k8s-ha source of `path` when it manages it, else undefined. */
function managedBy(managed: ReadonlyMap<string, string>, path: string): string | undefined {
  const p = normalPath(path);
  for (const [m, why] of managed) if (m.endsWith('/') ? p.startsWith(m) || `${p}/` === m : p === m) return why;
  return undefined;
}

/**
 * Validates a `#cloud-config` file: the header, YAML 1.1 syntax (cloud-init parses with
 * PyYAML), a mapping at the top, no key k8s-ha owns ({@link OWNED_CLOUD_CONFIG_KEYS}), and no
 * `write_files` path that k8s-ha writes.
 */
function readCloudConfig(profileFile: string, field: FieldPath, file: string, managed: ReadonlyMap<string, string>, problems: Problem[]): UserPart | undefined {
  const text = readUserFile(profileFile, field, file, problems);
  if (text === undefined) return undefined;
  const bad = (message: string, hint: string) => problems.push(error('E_USER_CONTENT', field, message, hint));
  if (!/^#cloud-config[ \t]*\r?\n/.test(text)) {
    bad(`${file}:1:1: not a cloud-config file: the first line must be "#cloud-config"`, 'only #cloud-config user files can be merged (no shell scripts, #include or MIME)');
    return undefined;
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) bad(`${yamlPlace(file, lc, e.pos[0])}: YAML syntax error: ${e.message.split('\n')[0]}`, 'cloud-init parses YAML 1.1; fix the file, then render again');
    return undefined;
  }
  if (!isMap(doc.contents)) {
    bad(`${file}: a cloud-config file must hold a mapping of cloud-config keys`, 'e.g. "runcmd:", "packages:", "write_files:" at the top level');
    return undefined;
  }
  const before = problems.length;
  for (const item of doc.contents.items) {
    const key = isScalar(item.key) ? String(item.key.value) : undefined;
    if (key !== undefined && key in OWNED_CLOUD_CONFIG_KEYS)
      bad(`${yamlPlace(file, lc, (item.key as YamlNode).range?.[0])}: sets "${key}", which k8s-ha owns: ${OWNED_CLOUD_CONFIG_KEYS[key]}`, `remove "${key}" from ${file}`);
  }
  const wf = doc.contents.get('write_files', true);
  if (wf !== undefined) {
    if (!isSeq(wf)) bad(`${yamlPlace(file, lc, (wf as YamlNode).range?.[0])}: write_files must be a list`, 'each item: path, content, permissions');
    else
      wf.items.forEach((it, i) => {
        const path = isMap(it) ? it.get('path', true) : undefined;
        if (!isScalar(path) || typeof path.value !== 'string') {
          bad(`${yamlPlace(file, lc, (it as YamlNode).range?.[0])}: write_files[${i}] has no path`, 'every write_files item needs "path: /absolute/path"');
          return;
        }
        const why = managedBy(managed, path.value);
        if (why !== undefined)
          bad(`${yamlPlace(file, lc, path.range?.[0])}: write_files[${i}] writes ${path.value}, which k8s-ha manages (${why})`, `remove it from ${file}, or change it through the profile`);
      });
  }
  if (problems.length > before) return undefined;
  return { file, field, text };
}

/**
 * Reads the user's Ignition config (Butane `*.bu` converted with `butane --strict` first),
 * checks JSON syntax, `ignition.version` and collisions with k8s-ha's files and units, and
 * validates it with `ignition-validate` when that is installed (a warning says when it is not,
 * or when it does not know the config's spec: Debian 12's Ignition 2.14 stops at 3.3.0; src/versions.ts).
 */
function readIgnition(profileFile: string, field: FieldPath, file: string, managed: ReadonlyMap<string, string>, problems: Problem[]): UserPart | undefined {
  const bad = (message: string, hint: string) => problems.push(error('E_USER_CONTENT', field, message, hint));
  const full = resolvePath(dirname(profileFile), file);
  let text: string | undefined;
  if (['.bu', '.butane', '.yaml', '.yml'].includes(extname(file).toLowerCase())) {
    const r = spawnSync('butane', ['--strict', '--files-dir', dirname(full), full], { encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      bad(`${file} is Butane YAML, and the butane program is not installed`, 'install butane (https://coreos.github.io/butane/getting-started/), or convert it yourself (butane --strict) and name the .ign file');
      return undefined;
    }
    if (r.status !== 0) {
      bad(`${file}: butane --strict failed: ${String(r.stderr).trim().split('\n').join('; ')}`, 'fix the Butane file, then render again');
      return undefined;
    }
    text = String(r.stdout);
  } else {
    text = readUserFile(profileFile, field, file, problems);
    if (text === undefined) return undefined;
  }
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch (e) {
    const m = / at position (\d+)/.exec((e as Error).message);
    const place = m ? (() => { const before = text!.slice(0, Number(m[1])).split('\n'); return `${file}:${before.length}:${before.at(-1)!.length + 1}`; })() : file;
    bad(`${place}: not valid JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '')}`, 'an Ignition config is JSON; write Butane YAML as *.bu');
    return undefined;
  }
  const version = (cfg as { ignition?: { version?: unknown } } | null)?.ignition?.version;
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg) || typeof version !== 'string' || !USER_IGNITION_VERSIONS.includes(version)) {
    bad(`${file}: not an Ignition 3.x config: expected an object with ignition.version one of ${USER_IGNITION_VERSIONS.join(', ')}`, 'Ignition spec 2.x (Container Linux) configs cannot be merged into a 3.x config');
    return undefined;
  }
  const before = problems.length;
  const c = cfg as { storage?: Record<string, { path?: unknown }[] | undefined>; systemd?: { units?: { name?: unknown }[] } };
  for (const list of ['files', 'directories', 'links'] as const) {
    (c.storage?.[list] ?? []).forEach((f, i) => {
      const why = typeof f?.path === 'string' ? managedBy(managed, f.path) : undefined;
      if (why !== undefined) bad(`${file}: storage.${list}[${i}] writes ${f.path as string}, which k8s-ha manages (${why})`, `remove it from ${file}, or change it through the profile`);
    });
  }
  (c.systemd?.units ?? []).forEach((u, i) => {
    const why = typeof u?.name === 'string' ? managed.get(`unit:${u.name}`) : undefined;
    if (why !== undefined) bad(`${file}: systemd.units[${i}] is ${u.name as string}, which k8s-ha manages (${why})`, `rename your unit in ${file}`);
  });
  if (problems.length > before) return undefined;
  const v = spawnSync('ignition-validate', ['-'], { input: text, encoding: 'utf8' });
  if (v.error && (v.error as NodeJS.ErrnoException).code === 'ENOENT') {
    problems.push(warning('W_NOT_VALIDATED', field, `${file} was not checked by ignition-validate (not installed); Ignition will check it at first boot`, 'install Ignition\'s ignition-validate (Debian: apt-get install ignition) to catch mistakes before boot'));
  } else if (v.status !== 0) {
    const out = `${String(v.stdout)}${String(v.stderr)}`.trim();
    if (/unsupported config version/.test(out)) {
      problems.push(warning('W_NOT_VALIDATED', field, `${file} (spec ${version}) was not checked: the installed ignition-validate does not know that spec`, `a newer ignition-validate (Ignition ${specsNewerThanRelease(DEBIAN_IGNITION).map((s) => `>= ${s.ignition} for ${s.spec}`).join(', ')}) checks it`));
    } else {
      for (const line of out.split('\n').filter((l) => l.trim() !== '')) {
        const m = /^(?:error|warning) at (\S+), line (\d+) col (\d+): (.*)$/i.exec(line.trim());
        bad(m ? `${file}:${m[2]}:${m[3]}: ignition-validate: ${m[1]}: ${m[4]}` : `${file}: ignition-validate: ${line.trim()}`, 'fix the Ignition config, then render again');
      }
      return undefined;
    }
  }
  return { file, field, text, version };
}

/**
 * Rules of `[install]`: it works through cloud-init's apt on Debian and Ubuntu only, so a
 * profile that network-boots Flatcar or Fedora CoreOS (boot.os) is refused with the way those
 * get kubeadm; and pkgs.k8s.io has stable releases only.
 */
export function installProblems(raw: RawProfile): Problem[] {
  if (raw.install?.enabled !== true) return [];
  const problems: Problem[] = [];
  const os = raw.boot?.os;
  if (os === 'flatcar' || os === 'fcos')
    problems.push(
      error('E_INSTALL', ['install', 'enabled'], `[install] installs with cloud-init and apt, which ${os === 'flatcar' ? 'Flatcar' : 'Fedora CoreOS'} (boot.os) does not have`,
        os === 'flatcar' ? 'remove [install] and set kubernetes.sysext: Flatcar gets kubeadm and kubelet as a systemd-sysext image' : 'remove [install]: on Fedora CoreOS layer kubeadm, kubelet and cri-o with rpm-ostree (in your own Ignition/Butane) or boot a derived image that has them'),
    );
  if (!/^v?\d+\.\d+\.\d+$/.test(raw.kubernetes.version))
    problems.push(error('E_INSTALL', ['kubernetes', 'version'], `[install] takes kubeadm ${raw.kubernetes.version} from pkgs.k8s.io, which has stable releases only`, 'use a release version such as v1.31.2, or install pre-releases yourself'));
  return problems;
}

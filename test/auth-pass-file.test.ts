/**
 * keepalived.authPassFile: the VRRP password from a file next to the profile, never shown in
 * any message; K8S_HA_AUTH_PASS still wins; problems are placed at the authPassFile line.
 */
import test from 'ava';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProblemError, formatProblems } from '../src/profile/errors.js';
import { parseProfile } from '../src/profile/load.js';
import { ROOT } from './helpers/cli.js';
import { testDir } from './helpers/tools.js';

const seed = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');
const withFile = seed.replace(/^authPass = "pass".*$/m, 'authPassFile = "vrrp.pass"');

function setup(t: { teardown(fn: () => void): void }, content?: string, mode = 0o600): string {
  const dir = testDir(t, 'k8s-ha-apf-');
  if (content !== undefined) {
    writeFileSync(join(dir, 'vrrp.pass'), content);
    chmodSync(join(dir, 'vrrp.pass'), mode);
  }
  return join(dir, 'p.toml');
}

const report = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof ProblemError) return e.message;
    throw e;
  }
  throw new Error('expected a ProblemError');
};

test('the password comes from the file (trailing newline dropped); warnings point at authPassFile', (t) => {
  const file = setup(t, 'hunter22\n');
  const loaded = parseProfile(file, withFile, {});
  t.is(loaded.plan.keepalived.authPass, 'hunter22');
  const text = formatProblems(file, loaded.problems, loaded.text);
  t.regex(text, /p\.toml:15:16: warning W103 at keepalived\.authPassFile: VRRP PASS/);
  t.false(text.includes('hunter22'));
  t.false(/W108/.test(text), 'a 0600 file gets no mode warning');
});

test('K8S_HA_AUTH_PASS wins over the file', (t) => {
  const file = setup(t, 'hunter22\n');
  t.is(parseProfile(file, withFile, { K8S_HA_AUTH_PASS: 'fromenv' }).plan.keepalived.authPass, 'fromenv');
});

test('a file readable by others is a warning naming chmod 600', (t) => {
  const file = setup(t, 'hunter22', 0o644);
  const loaded = parseProfile(file, withFile, {});
  t.regex(formatProblems(file, loaded.problems, loaded.text), /warning W108 at keepalived\.authPassFile: .* is readable by group or others\n[^]*hint: chmod 600/);
});

test('errors: missing file, invalid content (not shown), both authPass and authPassFile', (t) => {
  const missing = setup(t);
  t.regex(report(() => parseProfile(missing, withFile, {})), /p\.toml:15:16: error E001 at keepalived\.authPassFile: cannot read ".*vrrp\.pass": ENOENT/);
  const bad = setup(t, 'has space and is too long\n');
  const r = report(() => parseProfile(bad, withFile, {}));
  t.regex(r, /error E025 at keepalived\.authPassFile: the file must hold 1-8 characters .* \(content not shown\)/);
  t.false(r.includes('space'), r);
  const both = setup(t, 'hunter22');
  t.regex(report(() => parseProfile(both, withFile.replace('authPassFile', 'authPass = "x"\nauthPassFile'), {})), /error E025 at keepalived\.authPassFile: give keepalived\.authPass or keepalived\.authPassFile, not both/);
});

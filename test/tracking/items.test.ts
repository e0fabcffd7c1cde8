/**
 * `patchline track add|list|show|remove|enable|disable` on the local state (the real CLI):
 * flags, --file, --dir (a bad file: a dotted-path error naming it, nothing added), list --json,
 * exit codes, and concurrent writers losing nothing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from './support.js';

let root: string;
let state: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pl-track-items-'));
  state = join(root, 'state');
});

afterAll(() => {
  if (root && !process.env.PATCHLINE_KEEP_TEMP) rmSync(root, { recursive: true, force: true });
});

const item = (repo: string, extra: Record<string, unknown> = {}) => ({ repo, branch: 'master', packagingUrl: `https://git.example.org/rpms/${repo}.git`, spec: `${repo}.spec`, upstreamUrl: `https://git.example.org/up/${repo}.git`, upstreamBranch: 'main', ...extra });
const flags = (repo: string): string[] => ['--repo', repo, '--branch', 'master', '--packaging-url', `https://git.example.org/rpms/${repo}.git`, '--spec', `${repo}.spec`, '--upstream-url', `https://git.example.org/up/${repo}.git`, '--upstream-branch', 'main'];
const cli = (args: string[]) => runCli([...args, '--state-dir', state]);
const listJson = async (): Promise<Array<Record<string, unknown>>> => JSON.parse((await cli(['track', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;

test('add by flags, list, show, disable, enable, remove', async () => {
  const add = await cli(['track', 'add', ...flags('foo')]);
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
  expect(add.stdout).toBe('added foo master\n');
  const list = await cli(['track', 'list']);
  expect(list.stdout).toBe('foo master enabled main@https://git.example.org/up/foo.git -> https://git.example.org/rpms/foo.git:foo.spec last -\n');
  const [shown] = await listJson();
  expect(shown).toMatchObject({ ...item('foo'), enabled: true });
  expect(shown).not.toHaveProperty('lastCommit');

  const show = await cli(['track', 'show', '--repo', 'foo', '--branch', 'master']);
  expect(show.stdout).toContain('lastCommit: (none: starts at the upstream head at the next scan)');
  expect(JSON.parse((await cli(['track', 'show', '--repo', 'foo', '--branch', 'master', '--json'])).stdout)).toMatchObject({ item: item('foo'), reviews: [] });

  expect((await cli(['track', 'disable', '--repo', 'foo', '--branch', 'master'])).stdout).toBe('foo master disabled\n');
  expect((await listJson())[0]!.enabled).toBe(false);
  expect((await cli(['track', 'enable', '--repo', 'foo', '--branch', 'master'])).code).toBe(0);
  expect((await listJson())[0]!.enabled).toBe(true);

  // the same key again replaces the item and keeps its lastCommit
  const sha = 'a'.repeat(40);
  expect((await cli(['track', 'add', ...flags('foo'), '--last-commit', sha])).code).toBe(0);
  expect((await cli(['track', 'add', ...flags('foo'), '--disabled'])).stdout).toBe('added foo master (disabled)\n');
  expect(await listJson()).toEqual([expect.objectContaining({ repo: 'foo', lastCommit: sha, enabled: false })]);

  expect((await cli(['track', 'remove', '--repo', 'foo', '--branch', 'master'])).code).toBe(0);
  expect(await listJson()).toEqual([]);
  const gone = await cli(['track', 'remove', '--repo', 'foo', '--branch', 'master']);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toBe('patchline: ETRACK no tracking item for repo foo branch master (see: patchline track list) [foo/master]\n');
  const unknown = await cli(['track', 'show', '--repo', 'nope', '--branch', 'master']);
  expect(unknown.code).toBe(1);
});

test('usage errors exit 2 naming the flag', async () => {
  const missing = await cli(['track', 'add', '--repo', 'foo', '--branch', 'master', '--spec', 'foo.spec']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/^patchline: EUSAGE --packaging-url: required; --upstream-url: required; --upstream-branch: required/);
  const badSha = await cli(['track', 'add', ...flags('foo'), '--last-commit', 'xyz']);
  expect(badSha.code).toBe(2);
  expect(badSha.stderr).toMatch(/--last-commit: must match pattern/);
  const noWhere = await runCli(['track', 'list'], { cwd: root, env: { PATCHLINE_CONFIG: '' } });
  expect(noWhere.code).toBe(2);
  expect(noWhere.stderr).toMatch(/EUSAGE no state dir/);
  const both = await cli(['track', 'add', ...flags('foo'), '--file', 'x.yaml']);
  expect(both.code).toBe(2);
  expect(await listJson()).toEqual([]);
});

test('--file and --dir: YAML schema-checked, a bad file named with its dotted path, nothing added', async () => {
  const dir = join(root, 'items');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.yaml'), stringify(item('alpha')));
  writeFileSync(join(dir, 'b.yaml'), stringify(item('beta', { enabled: false })));
  writeFileSync(join(dir, 'c.yaml'), stringify({ ...item('gamma'), upstreamBrnch: 'main', spec: 42 }));
  writeFileSync(join(dir, 'notes.txt'), 'not an item');
  const bad = await cli(['track', 'add', '--dir', dir]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toBe(`patchline: EUSAGE upstreamBrnch: unknown key; spec: expected string (in ${join(dir, 'c.yaml')}) [${join(dir, 'c.yaml')}]\n`);
  expect(await listJson()).toEqual([]);

  const one = await cli(['track', 'add', '--file', join(dir, 'a.yaml')]);
  expect(one.code).toBe(0);
  expect((await listJson()).map((i) => i.repo)).toEqual(['alpha']);

  rmSync(join(dir, 'c.yaml'));
  const all = await cli(['track', 'add', '--dir', dir]);
  expect(all.code).toBe(0);
  expect(all.stdout).toBe('added alpha master\nadded beta master (disabled)\n');
  expect((await listJson()).map((i) => `${String(i.repo)} ${String(i.enabled)}`)).toEqual(['alpha true', 'beta false']);
  const filtered = JSON.parse((await cli(['track', 'list', '--json', '--repo', 'beta'])).stdout) as unknown[];
  expect(filtered).toHaveLength(1);

  writeFileSync(join(root, 'broken.yaml'), 'repo: [unclosed\n');
  const yaml = await cli(['track', 'add', '--file', join(root, 'broken.yaml')]);
  expect(yaml.code).toBe(2);
  expect(yaml.stderr).toMatch(/broken\.yaml:\d+: not valid YAML/);
  for (const r of ['alpha', 'beta']) await cli(['track', 'remove', '--repo', r, '--branch', 'master']);
});

test('concurrent writers: ten adds at once, none lost; the store is whole JSON', async () => {
  const repos = Array.from({ length: 10 }, (_, i) => `pkg${i}`);
  const results = await Promise.all(repos.map((r) => cli(['track', 'add', ...flags(r)])));
  expect(results.map((r) => r.stderr).join("")).toBe("");
  expect(results.map((r) => r.code)).toEqual(repos.map(() => 0));
  expect((await listJson()).map((i) => i.repo).sort()).toEqual(repos.sort());
  expect(() => JSON.parse(readFileSync(join(state, 'tracking', 'items.json'), 'utf8')) as unknown).not.toThrow();
});

/** Which patchline.yaml every command reads: --config > PATCHLINE_CONFIG > ./patchline.yaml > /etc/patchline/patchline.yaml; and --version. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { NO_CONFIG, SYSTEM_CONFIG, findConfig } from '../../src/core/config-discovery.js';

const CLI = resolve('dist/src/cli.js');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

function patchline(args: string[], cwd: string, env: Record<string, string | undefined> = {}, entry = CLI) {
  const base = { ...process.env };
  delete base.PATCHLINE_CONFIG;
  return spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8', cwd, env: { ...base, ...env } as NodeJS.ProcessEnv });
}

/** A folder holding a valid config over an empty mbox (and its state dir beside it). */
function configIn(dir: string, name = 'patchline.yaml', route = true): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'list.mbox'), '');
  const file = join(dir, name);
  writeFileSync(file, stringify({ sources: [{ name: 'list', type: 'mbox', path: 'list.mbox', ...(route ? { route: { repo: 'hello', branch: 'main' } } : {}) }], repos: { hello: { url: 'hello.git', branches: ['main'] } } }));
  return file;
}

/** The config file `patchline check` says it checked. */
const checked = (r: ReturnType<typeof patchline>) => /^patchline check: (\S+): /m.exec(r.stderr)?.[1];

describe('config discovery', () => {
  const root = mkdtempSync(join(tmpdir(), 'pl-discovery-'));
  const here = join(root, 'here');
  const local = configIn(here);
  const fromEnv = configIn(join(root, 'env'), 'team.yaml');
  const given = configIn(join(root, 'given'), 'other.yaml');
  const empty = join(root, 'empty');
  mkdirSync(empty);

  test('findConfig: the option, then the environment, then ./patchline.yaml, then the system file', () => {
    const system = configIn(join(root, 'etc'));
    const env = { PATCHLINE_CONFIG: fromEnv };
    expect(findConfig('x.yaml', { env, cwd: here, system })).toEqual({ file: join(here, 'x.yaml'), origin: 'option' });
    expect(findConfig(undefined, { env, cwd: here, system })).toEqual({ file: fromEnv, origin: 'env' });
    expect(findConfig(undefined, { env: { PATCHLINE_CONFIG: '' }, cwd: here, system })).toEqual({ file: local, origin: 'cwd' });
    expect(findConfig(undefined, { env: {}, cwd: empty, system })).toEqual({ file: system, origin: 'system' });
    expect(findConfig(undefined, { env: {}, cwd: empty, system: join(root, 'none.yaml') })).toBeUndefined();
    expect(SYSTEM_CONFIG).toBe('/etc/patchline/patchline.yaml');
  });

  test('every command: --config wins over PATCHLINE_CONFIG, which wins over ./patchline.yaml', () => {
    expect(checked(patchline(['check'], here))).toBe(local);
    expect(checked(patchline(['check'], here, { PATCHLINE_CONFIG: fromEnv }))).toBe(fromEnv);
    expect(checked(patchline(['check', '--config', given], here, { PATCHLINE_CONFIG: fromEnv }))).toBe(given);
    // a relative PATCHLINE_CONFIG is relative to where the command runs
    expect(checked(patchline(['check'], root, { PATCHLINE_CONFIG: 'env/team.yaml' }))).toBe(fromEnv);
    // an explicit file that is missing is an error, not a reason to read another one
    const missing = patchline(['check'], here, { PATCHLINE_CONFIG: join(root, 'gone.yaml') });
    expect(missing.status).toBe(2);
    expect(missing.stdout).toMatch(/gone\.yaml: cannot read the config file: no such file/);
  });

  test('the step binaries, the ledger commands and nested commands discover it too', () => {
    const step = patchline(['--dry-run', '--run-dir', join(root, 'run')], here, {}, resolve('dist/steps/harvest.js'));
    expect(step.stderr).toMatch(/harvest: 0 messages/);
    expect(step.status).toBe(0);
    expect(patchline(['status', '--json'], here).status).toBe(0);
    const run = patchline(['run', '--dry-run', '-q'], here);
    expect(run.stderr).not.toMatch(/ECONFIG|required option/);
  });

  const noSystemConfig = existsSync(SYSTEM_CONFIG) ? test.skip : test;
  noSystemConfig('none found: one line saying where it was looked for, exit 2 (also for a nested command)', () => {
    for (const args of [['check'], ['status'], ['harvest'], ['jenkins', 'status']]) {
      const r = patchline(args, empty);
      expect([args, r.status, r.stderr]).toEqual([args, 2, `patchline: ECONFIG ${NO_CONFIG}\n`]);
    }
  });

  test('inspect takes the config it finds, and runs without one', () => {
    const mail = join(root, 'one.eml');
    writeFileSync(mail, 'From: A <a@example.org>\nSubject: [main PATCH hello] fix it\nMessage-ID: <one@example.org>\n\n---\n a | 1 +\n\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -0,0 +1 @@\n+x\n');
    const without = patchline(['inspect', mail], empty);
    expect(without.status).toBe(0);
    expect(without.stdout).toContain('no config: route not checked');
    const found = configIn(join(root, 'inspect'), 'patchline.yaml', false);
    const withConfig = patchline(['inspect', mail], join(root, 'inspect'));
    expect(withConfig.status).toBe(0);
    expect(withConfig.stdout).not.toContain('no config: route not checked');
    expect(found).toBe(join(root, 'inspect', 'patchline.yaml'));
  });
});

describe('patchline --version', () => {
  test.each([['--version'], ['-V']])('%s prints the version of package.json', (flag) => {
    const r = patchline([flag], tmpdir());
    expect([r.status, r.stdout]).toEqual([0, `${VERSION}\n`]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from '../../src/core/child-env.js';
import { readSecret } from '../../src/core/secrets.js';
import { Git } from '../../src/git/git.js';
import { runTool } from '../../src/publish/tool.js';

/** Child processes of every step get a scrubbed environment (issue 14, item 1). */

const saved = { ...process.env };
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'pl-child-env-'));
  // the operator's ~/.gitconfig: a credential helper (kept) and an alias and a hooks dir (left out)
  writeFileSync(
    join(home, '.gitconfig'),
    ['[credential]', '\thelper = "!f() { echo username=agent; echo password=from-the-helper; }; f"', '[alias]', '\tst = status', '[core]', '\thooksPath = /nonexistent/hooks', ''].join('\n'),
  );
  Object.assign(process.env, {
    HOME: home,
    LC_TIME: 'C',
    PATCHLINE_CONFIG: '/etc/patchline/patchline.yaml',
    PATCHLINE_IMAP_PASSWORD: 'imap-pw-1',
    SMTP_PW: 'smtp-pw-2',
    SOME_TOKEN: 'token-3',
    SSH_AUTH_SOCK: '/run/agent.sock',
  });
  delete process.env.GIT_CONFIG_GLOBAL;
  readSecret({ env: 'SMTP_PW' }, 'report.smtp.password', home);
});

afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  rmSync(home, { recursive: true, force: true });
});

const LEAKS = /PATCHLINE_|imap-pw-1|smtp-pw-2|token-3/;

test('childEnv: PATH, HOME, the locale and what the tool needs; nothing of patchline\'s own, no secret, nothing else', () => {
  const env = childEnv({ LC_ALL: 'C' }, /^(SSH_AUTH_SOCK|SMTP_PW)$/);
  expect(env).toMatchObject({ PATH: process.env.PATH, HOME: home, LC_TIME: 'C', LC_ALL: 'C', SSH_AUTH_SOCK: '/run/agent.sock' });
  expect(env.SMTP_PW).toBeUndefined(); // named by the config as a secret: not even when asked for
  expect(env.SOME_TOKEN).toBeUndefined();
  expect(Object.keys(env).filter((k) => k.startsWith('PATCHLINE_'))).toEqual([]);
  expect(childEnv().SSH_AUTH_SOCK).toBeUndefined();
});

test('git: the operator\'s credential helper answers, their alias and hooksPath do not apply, and git\'s children see no secret', async () => {
  const dir = mkdtempSync(join(home, 'repo-'));
  const git = new Git(dir);
  await git.run(['init', '-q']);
  const fill = await git.output(['credential', 'fill'], { input: 'protocol=https\nhost=git.example.org\n\n' });
  expect(fill).toContain('password=from-the-helper');
  expect((await git.run(['st'], { allowFailure: true })).code).not.toBe(0);
  expect(await git.output(['config', 'core.hooksPath']).catch(() => 'unset')).toBe('unset');
  // an alias given on the command line runs a shell with git's own environment
  const env = await git.output(['-c', 'alias.showenv=!env', 'showenv']);
  expect(env).toMatch(/^SSH_AUTH_SOCK=\/run\/agent\.sock$/m);
  expect(env).not.toMatch(LEAKS);
});

test('publish tools (createrepo_c, rsync, rpm) run with the scrubbed environment', async () => {
  const { stdout } = await runTool('env', [], { code: 'EPUBLISH' });
  expect(stdout).toMatch(/^PATH=/m);
  expect(stdout).not.toMatch(LEAKS);
  expect(stdout).not.toMatch(/SSH_AUTH_SOCK/);
});

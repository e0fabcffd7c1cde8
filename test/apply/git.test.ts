import { join } from 'node:path';
import { PatchlineError } from '../../src/core/errors.js';
import { validateConfig } from '../../src/core/config.js';
import { Git, gitMessage, neutralGitEnv } from '../../src/git/git.js';
import { filesFromAmOutput } from '../../src/apply/am.js';
import { isSafeRefWord, linkFor, pushTarget, applySettings } from '../../src/apply/settings.js';
import { remoteUrl } from '../../src/apply/clone.js';
import { removeDir, tempDir } from '../support/git-fixtures.js';

describe('src/git: the one module that runs git', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir();
  });
  afterAll(() => removeDir(root));

  test('a failing command is an EGIT naming the command and carrying git\'s own message', async () => {
    const git = new Git(root);
    await git.run(['init', '--quiet', 'r']);
    const err = await new Git(join(root, 'r')).run(['rev-parse', '--verify', 'no-such-branch']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PatchlineError);
    expect((err as PatchlineError).code).toBe('EGIT');
    expect((err as PatchlineError).message).toMatch(/^git rev-parse --verify no-such-branch: fatal: Needed a single revision/);
    expect(await new Git(join(root, 'r')).revParse('no-such-branch')).toBeUndefined();
  });

  test('the environment is neutral: no GIT_* variables but the transport ones, no system or ~/.gitconfig, C locale, no prompts', () => {
    const saved = { ...process.env };
    Object.assign(process.env, { GIT_DIR: '/somewhere/else', GIT_AUTHOR_NAME: 'Mallory', GIT_ASKPASS: '/usr/lib/askpass' });
    delete process.env.GIT_CONFIG_GLOBAL;
    try {
      const env = neutralGitEnv({ GIT_COMMITTER_NAME: 'x' });
      expect(env.GIT_DIR).toBeUndefined();
      expect(env.GIT_AUTHOR_NAME).toBeUndefined();
      expect(env).toMatchObject({ GIT_ASKPASS: '/usr/lib/askpass', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_COMMITTER_NAME: 'x' });
      process.env.GIT_CONFIG_GLOBAL = '/etc/patchline/gitconfig';
      expect(neutralGitEnv().GIT_CONFIG_GLOBAL).toBe('/etc/patchline/gitconfig');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test('git\'s message keeps its error, conflict and "Patch failed" lines', () => {
    expect(gitMessage({ stdout: 'Applying: x\nCONFLICT (content): Merge conflict in a.c\n', stderr: 'error: Failed to merge in the changes.\nhint: Use git am --show-current-patch\n' })).toBe(
      'error: Failed to merge in the changes.; CONFLICT (content): Merge conflict in a.c',
    );
    expect(filesFromAmOutput('error: patch failed: src/a.c:12\nerror: src/a.c: patch does not apply\nerror: b.h: does not exist in index\nCONFLICT (content): Merge conflict in c.c\n')).toEqual(['src/a.c', 'b.h', 'c.c']);
  });
});

describe('apply settings and config', () => {
  const base = { sources: [{ name: 'l', type: 'mbox', path: 'l.mbox' }], repos: { q: { url: 'q.git', branches: ['master'] } } };

  test('the apply section is strict and documented by its schema; per-repo values override the stage', () => {
    const config = validateConfig({
      ...base,
      apply: { committer: { name: 'P', email: 'p@x' }, threeWay: true, pushPattern: 'patchline/{branch}/{date}', linkUrl: 'https://lore.example/r/{messageId}', searchDepth: 500 },
      repos: { q: { url: 'q.git', branches: ['master'], apply: { threeWay: false, order: 'harvest' } } },
    });
    expect(applySettings(config, 'q')).toMatchObject({ threeWay: false, order: 'harvest', searchDepth: 500, pushPattern: 'patchline/{branch}/{date}' });
    expect(() => validateConfig({ ...base, apply: { pushBranch: 'x' } })).toThrow(/apply/);
    expect(() => validateConfig({ ...base, apply: { linkUrl: 'https://no-placeholder/' } })).toThrow(/linkUrl/);
    expect(() => validateConfig({ ...base, apply: { pushPattern: '-evil' } })).toThrow(/pushPattern/);
  });

  test('names: staging branches, link URLs, remote URLs', () => {
    const settings = applySettings(validateConfig({ ...base, apply: { pushPattern: 'staging/{repo}/{branch}/{date}' } }), 'q');
    expect(pushTarget(settings, { repo: 'q', branch: 'stable-1.2', date: '2026-11-21', runId: 'r' })).toBe('staging/q/stable-1.2/2026-11-21');
    expect(linkFor('https://lore.kernel.org/r/{messageId}', '2023.1-2@a.b')).toBe('https://lore.kernel.org/r/2023.1-2@a.b');
    for (const bad of ['-b', 'a..b', 'x;y', '$(x)', 'a b', 'x.lock', '']) expect(isSafeRefWord(bad)).toBe(false);
    expect(remoteUrl('git@host:group/repo.git', '/etc')).toBe('git@host:group/repo.git');
    expect(remoteUrl('https://host/repo.git', '/etc')).toBe('https://host/repo.git');
    expect(remoteUrl('../repos/q.git', '/srv/conf')).toBe('/srv/repos/q.git');
  });
});

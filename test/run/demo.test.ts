import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `patchline demo` end to end on real git, rpmbuild and createrepo_c, in a copy of examples/demo. */
function demo(dir: string) {
  return spawnSync(process.execPath, ['dist/src/cli.js', 'demo', '--dir', dir], { encoding: 'utf8' });
}

describe('patchline demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-demo-'));
  const remote = join(dir, '.work/remotes/hello.git');
  let first: ReturnType<typeof demo>;

  beforeAll(() => {
    first = demo(dir);
  });

  test('the first run seeds the remote, applies the mailed series onto main, authors kept', () => {
    expect(first.stderr).toMatch(/first run: making the hello repo/);
    expect(first.status).toBe(0);
    const log = execFileSync('git', ['-C', remote, 'log', '--format=%an|%s', 'main'], { encoding: 'utf8' }).trim().split('\n');
    expect(log).toEqual(['Grace Hopper|README: document the usage', 'Grace Hopper|hello: add --help', 'Ada Lovelace|hello: greet by name', 'Hello Maintainers|hello 1.0']);
  });

  test('the RPM built from the head of the patched branch is in the published yum repo', () => {
    // one yum repo per platform and branch (publish.layout's default {platform}/{repo}-{branch})
    const repo = join(dir, '.work/publish/demo/hello-main');
    expect(existsSync(join(repo, 'repodata/repomd.xml'))).toBe(true);
    const head = execFileSync('git', ['-C', remote, 'rev-parse', '--short=7', 'main'], { encoding: 'utf8' }).trim();
    const rpm = readdirSync(join(repo, 'Packages')).find((f) => f.includes(`.git${head}.`) && f.endsWith('.noarch.rpm'));
    expect(rpm).toBeDefined();
    const files = execFileSync('rpm', ['-qlp', join(repo, 'Packages', rpm!)], { encoding: 'utf8' });
    expect(files).toMatch(/^\/usr\/bin\/hello$/m);
  });

  test('it ends by saying where the repo, the mails and the status page are, and they are there', () => {
    const where = (label: string) => new RegExp(`^  ${label}:\\s+(\\S+)`, 'm').exec(first.stderr)?.[1];
    expect(where('git repo')).toBe(remote);
    const mail = where('mails')!;
    expect(readFileSync(mail, 'utf8')).toMatch(/^Subject: .*hello/m);
    expect(readFileSync(where('status page')!, 'utf8')).toMatch(/<html/i);
  });

  test('it says where the gate kept each series (its staging ref) and that none is left once every gate passed', () => {
    expect(first.stderr).toMatch(/^2026-11-20-hello-greet-by-name-v1-\w+: 1 commit\(s\) on patchline\/staging\/2026-11-20-hello-greet-by-name-v1-\w+ \(hello\/main moves when its gate passes\)$/m);
    expect(first.stderr).toMatch(/^  staging refs: none in \S+hello\.git: every series that passed its gate is on its branch \(a held one waits on refs\/heads\/patchline\/staging\/<series>\)$/m);
    expect(execFileSync('git', ['-C', remote, 'for-each-ref', 'refs/heads/patchline/'], { encoding: 'utf8' })).toBe('');
  });

  test('a second run with no new mail does nothing and says so', () => {
    const before = execFileSync('git', ['-C', remote, 'rev-parse', 'main'], { encoding: 'utf8' });
    const runs = readdirSync(join(dir, '.work/state/runs')).length;
    const second = demo(dir);
    expect(second.status).toBe(0);
    expect(second.stderr).toMatch(/no new mail since the last run: nothing to do/);
    expect(second.stderr).not.toMatch(/patchline (apply|build|publish|report):/);
    expect(execFileSync('git', ['-C', remote, 'rev-parse', 'main'], { encoding: 'utf8' })).toBe(before);
    expect(readdirSync(join(dir, '.work/state/runs')).length).toBe(runs + 1);
  });
});

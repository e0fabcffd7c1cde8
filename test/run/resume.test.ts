import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Git } from '../../src/git/git.js';
import { DEMO_SOURCE, seedRemote } from '../../src/run/demo.js';
import { closedPort, startSmtpServer } from '../support/smtp.js';

/**
 * The ledger end to end on the demo project (real git, rpmbuild, createrepo_c, real step
 * processes): what one run leaves undone, the next plain `patchline run` finishes.
 */
interface Project {
  dir: string;
  remote: string;
}

async function project(opts: { brokenSpec?: boolean } = {}): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'pl-resume-'));
  for (const name of ['patchline.yaml', 'mail', 'hello']) cpSync(join(DEMO_SOURCE, name), join(dir, name), { recursive: true });
  if (opts.brokenSpec) {
    const spec = join(dir, 'hello', 'hello.spec');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('BuildArch:      noarch', 'BuildArch:      noarch\nBuildRequires:  no-such-package-devel'));
  }
  const remote = join(dir, '.work/remotes/hello.git');
  await seedRemote(remote, join(dir, 'hello'), ['main']);
  return { dir, remote };
}

function patchline(p: Project, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli.js'), ...args, '--config', join(p.dir, 'patchline.yaml')], { encoding: 'utf8', cwd: p.dir });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The same, not blocking the event loop (an SMTP server of the test answers meanwhile). */
async function patchlineAsync(p: Project, ...args: string[]) {
  try {
    const r = await promisify(execFile)(process.execPath, [join(process.cwd(), 'dist/src/cli.js'), ...args, '--config', join(p.dir, 'patchline.yaml')], { encoding: 'utf8', cwd: p.dir });
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

function useSmtp(p: Project, port: number): void {
  const config = join(p.dir, 'patchline.yaml');
  const text = readFileSync(config, 'utf8').replace(/\n  smtp: .*\n/, '\n');
  writeFileSync(config, text.replace('\nreport:\n', `\nreport:\n  smtp: { host: 127.0.0.1, port: ${port}, security: plain, from: patchline@example.org }\n`));
}

const runs = (p: Project) => readdirSync(join(p.dir, '.work/state/runs')).filter((n) => n !== 'LATEST').sort();
const lastRun = (p: Project) => join(p.dir, '.work/state/runs', runs(p).at(-1)!);
const mailsOf = (runDir: string) => (existsSync(join(runDir, 'report/mail')) ? readdirSync(join(runDir, 'report/mail')).filter((f) => f.endsWith('.eml')).sort() : []);
const allMails = (p: Project) => runs(p).flatMap((r) => mailsOf(join(p.dir, '.work/state/runs', r)));
const commits = (p: Project) => new Git(p.remote).output(['log', '--format=%s', 'main']);
const packages = (p: Project) => (existsSync(join(p.dir, '.work/publish/demo/hello-main/Packages')) ? readdirSync(join(p.dir, '.work/publish/demo/hello-main/Packages')).sort() : []);
const buildsOf = (runDir: string) => (existsSync(join(runDir, 'build.json')) ? (JSON.parse(readFileSync(join(runDir, 'build.json'), 'utf8')) as { builds: Array<{ seriesId: string; state: string }> }).builds : []);

describe('the series ledger: every run finishes what earlier runs left undone', () => {
  test('a run that stopped after harvest is finished by the next plain run, which says what it resumes', async () => {
    const p = await project();
    expect(patchline(p, 'harvest').code).toBe(0);
    const status = patchline(p, 'status');
    expect(status.stdout).toMatch(/hello\/main: 2 pending/);
    expect(status.stdout).toMatch(/the next run resumes 2 series left by run \d{8}T\d{6}Z: 2 not applied/);

    const run = patchline(p, 'run');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/resuming 2 series left by run \d{8}T\d{6}Z: 2 not applied/);
    expect((await commits(p)).split('\n')).toHaveLength(4);
    expect(packages(p)).toHaveLength(2); // each series' last commit, as the demo builds them
    expect(allMails(p)).toEqual(['01-success-2026-11-20-hello-greet-by-name-v1-a940c9ec.eml', '02-success-2026-11-20-hello-a-help-option-v1-a3fe2068.eml']);

    const again = patchline(p, 'run');
    expect(again.stderr).toMatch(/no new mail since the last run: nothing to do/);
    expect(allMails(p)).toHaveLength(2);
    expect(JSON.parse(patchline(p, 'status', '--json').stdout)).toMatchObject({ branches: [{ repo: 'hello', branch: 'main', counts: { done: 2, pending: 0 } }], unfinished: '' });
  });

  test('after harvest, apply and build ran alone, the run publishes and mails; nothing is applied or built twice', async () => {
    const p = await project();
    for (const step of ['harvest', 'apply', 'build']) expect(patchline(p, step).code).toBe(0);
    const built = lastRun(p);
    const run = patchline(p, 'run');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/resuming 2 series .*: 2 not published/);
    expect(buildsOf(lastRun(p))).toEqual([]);
    expect(buildsOf(built)).toHaveLength(2);
    expect((await commits(p)).split('\n')).toHaveLength(4);
    expect(packages(p)).toHaveLength(2); // each series' last commit, as the demo builds them
    expect(allMails(p)).toHaveLength(2);
  });

  test('a publish that failed (the destination unusable) waits, unmailed, and the next run after the fix publishes and mails once', async () => {
    const p = await project();
    writeFileSync(join(p.dir, '.work/publish'), 'not a directory\n'); // mkdir under it fails: ENOTDIR
    const first = patchline(p, 'run');
    expect(first.code).toBe(1);
    expect(allMails(p)).toEqual([]);
    // the test step reads the published repo (NVR order) and meets the outage first
    expect(patchline(p, 'status').stdout).toMatch(/waiting at (test|publish) \(demo\)/);
    const still = patchline(p, 'run');
    expect(still.stderr).toMatch(/resuming 2 series .*: 2 waiting to retry/);
    expect(allMails(p)).toEqual([]);
    rmSync(join(p.dir, '.work/publish'));
    const fixed = patchline(p, 'run');
    expect(fixed.code).toBe(0);
    expect(packages(p)).toHaveLength(2); // each series' last commit, as the demo builds them
    expect(allMails(p)).toHaveLength(2);
    expect(buildsOf(lastRun(p))).toEqual([]); // published from the earlier run's build
    expect(patchline(p, 'run').stderr).toMatch(/nothing to do/);
  });

  test('a build that fails for good is not rebuilt by the next run; patchline retry or a changed platform builds it again', async () => {
    const p = await project({ brokenSpec: true });
    const greet = '2026-11-20-hello-greet-by-name-v1-a940c9ec';
    const help = '2026-11-20-hello-a-help-option-v1-a3fe2068';
    const first = patchline(p, 'run');
    expect(first.code).toBe(1);
    // greet's build fails; help, stacked on greet, is applied again alone on the branch's tip, where it does not apply without greet
    expect(buildsOf(lastRun(p)).map((b) => [b.seriesId, b.state])).toEqual([[greet, 'failed'], [help, 'failed']]);
    expect(allMails(p)).toEqual([`01-build-failure-${greet}.eml`, `02-apply-conflict-${help}.eml`]);
    const mail = readFileSync(join(lastRun(p), 'report/mail', `01-build-failure-${greet}.eml`), 'utf8').replace(/=\r?\n/g, '');
    expect(mail).toMatch(new RegExp(`It waits for a new version of the series or a change of the platform, spec or test settings; to build it again now: patchline retry ${greet}`));

    // nothing is built or mailed again: the conflict is only looked at (has its branch moved?)
    const second = patchline(p, 'run');
    expect(second.stderr).toMatch(/resuming 1 conflicting series/);
    expect(buildsOf(lastRun(p))).toEqual([]);
    expect(mailsOf(lastRun(p))).toEqual([]);
    const status = patchline(p, 'status').stdout;
    expect(status).toMatch(new RegExp(`failed at build \\(demo\\): ${greet}: .*no-such-package-devel`));
    expect(status).toMatch(new RegExp(`waits for a new version of the series, a config change, or: patchline retry ${greet}`));

    expect(patchline(p, 'retry', greet).code).toBe(0);
    const retried = patchline(p, 'run');
    expect(retried.stderr).toMatch(/resuming 1 series .*: 1 not built/);
    expect(buildsOf(lastRun(p)).map((b) => b.seriesId)).toEqual([greet]);
    expect(mailsOf(lastRun(p))).toEqual([`01-build-failure-${greet}.eml`]); // mailed again: someone asked

    const config = join(p.dir, 'patchline.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('builder: local', 'builder: local\n    dist: .el9'));
    const changed = patchline(p, 'run');
    expect(changed.stderr).toMatch(/resuming 1 series .*: 1 not built/);
    expect(buildsOf(lastRun(p)).map((b) => b.seriesId)).toEqual([greet]);
    expect(patchline(p, 'retry', 'no-such-series').stderr).toMatch(/EUSAGE not in the ledger: no-such-series/);
  });

  test('SMTP down: the mails wait (also through a report step run again), the next run after the outage delivers each once, and nothing twice', async () => {
    const p = await project();
    useSmtp(p, await closedPort());
    const first = await patchlineAsync(p, 'run');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/2 mails are kept in .*the next run sends them/);
    const firstRun = lastRun(p);
    expect(patchline(p, 'status').stdout).toMatch(/1 mail batch to deliver/);
    // the first run's report step again, by hand, while SMTP is still down: it plans nothing new and keeps what is owed
    expect((await patchlineAsync(p, 'report', '--run-dir', firstRun)).code).toBe(0);

    const smtp = await startSmtpServer();
    try {
      useSmtp(p, smtp.port);
      const second = await patchlineAsync(p, 'run');
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(/resuming 1 mail batch to deliver/);
      const ids = () => smtp.received.map((m) => /^Message-ID:\s*(\S+)/im.exec(m.raw.toString('utf8'))?.[1] ?? m.raw.toString('utf8').slice(0, 300)).sort();
      expect(ids()).toHaveLength(2);
      expect(new Set(ids()).size).toBe(2);
      expect((await patchlineAsync(p, 'run')).stderr).toMatch(/nothing to do/);
      expect((await patchlineAsync(p, 'report', '--run-dir', firstRun)).code).toBe(0);
      expect(ids()).toHaveLength(2);
    } finally {
      await smtp.close();
    }
  });
});

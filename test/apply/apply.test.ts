import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Git } from '../../src/git/git.js';
import { commitFiles, FIXTURE_ENV, makeProject, makeRemote, removeDir, tempDir, writeHarvest } from '../support/git-fixtures.js';
import { remoteRef, runApply, seriesFrom, treeListing } from './helpers.js';

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i + 1}`).join('\n') + '\n';

describe('apply: series onto the configured branch with git am', () => {
  let root: string;
  beforeEach(() => {
    root = tempDir();
  });
  afterEach(() => removeDir(root));

  test('applies a series keeping author and date from the mail, records Message-IDs, pushes; a re-run applies nothing twice', async () => {
    const { work, remote } = await makeRemote(root, { 'src/a.c': lines(30, 'a'), 'README': 'readme\n' });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: change line 5', { 'src/a.c': lines(30, 'a').replace('a line 5\n', 'a line five\n') });
    await commitFiles(work, 'readme: say more', { 'README': 'readme\nmore\n' });
    const expected = await treeListing(work, 'HEAD');
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } }, { committer: { name: 'Patch Line', email: 'pl@example.org' } });
    const series = await seriesFrom(work, `${base}..HEAD`, project, { id: 's1', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [series]);

    const first = await runApply(project);
    expect(first.code).toBe(0);
    const [s] = first.result.series;
    expect(s).toMatchObject({ id: 's1', status: 'applied', baseCommit: base });
    expect(s!.commits.map((c) => [c.number, c.subject, c.messageId])).toEqual(series.patches.map((p, i) => [i + 1, p.subject, p.messageId]));
    expect(first.result.branches[0]).toMatchObject({ target: 'master', pushed: true, baseCommit: base, head: s!.commits[1]!.sha });

    const r = new Git(remote);
    expect(await remoteRef(remote, 'master')).toBe(s!.commits[1]!.sha);
    expect(await treeListing(r, 'master')).toBe(expected);
    const log = await r.output(['log', '--format=%an <%ae>|%aI|%cn <%ce>|%s|%(trailers:key=Message-Id,valueonly)', `${base}..master`]);
    expect(log.split('\n').filter(Boolean).reverse()).toEqual(
      series.patches.map((p) => `${FIXTURE_ENV.GIT_AUTHOR_NAME} <${FIXTURE_ENV.GIT_AUTHOR_EMAIL}>|2023-01-01T00:00:00+00:00|Patch Line <pl@example.org>|${p.subject}|<${p.messageId}>`),
    );

    // the ledger knows the series is applied: a re-run has nothing to do
    const none = await runApply(project);
    expect(none.code).toBe(0);
    expect(none.result.series).toEqual([]);
    // a crash after the push and before the ledger write: the branch itself says the series is there
    rmSync(join(project.stateDir, 'ledger'), { recursive: true });
    const again = await runApply(project);
    expect(again.code).toBe(0);
    expect(again.result.series[0]).toMatchObject({ status: 'already-applied', commits: [] });
    expect(again.result.series[0]!.alreadyApplied.map((f) => f.how)).toEqual(['message-id', 'message-id']);
    expect(again.result.branches[0]!.pushed).toBe(false);
    expect(await remoteRef(remote, 'master')).toBe(s!.commits[1]!.sha);
  });

  test('a series already on the branch without recorded Message-IDs is found by patch-id', async () => {
    const { work, remote } = await makeRemote(root, { 'f.txt': lines(20, 'f') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'f: edit', { 'f.txt': lines(20, 'f').replace('f line 3\n', 'f line III\n') });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    const series = await seriesFrom(work, `${base}..HEAD`, project, { id: 's1', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [series]);
    // Someone applied it by hand upstream (plain commit, another message, no Message-Id), then more work followed.
    await work.run(['commit', '--quiet', '--amend', '-m', 'f: edit (applied by hand)']);
    await commitFiles(work, 'unrelated', { 'g.txt': 'g\n' });
    await work.run(['push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/master']);
    const tip = await remoteRef(remote, 'master');

    const { code, result } = await runApply(project);
    expect(code).toBe(0);
    expect(result.series[0]).toMatchObject({ status: 'already-applied', commits: [] });
    expect(result.series[0]!.alreadyApplied).toEqual([expect.objectContaining({ number: 1, how: 'patch-id', sha: (await work.revParse('HEAD~1'))! })]);
    expect(await remoteRef(remote, 'master')).toBe(tip);
  });

  test('a conflict: git am aborted, the branch untouched, the patch and files named; other series go on (exit 3)', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a'), 'b.txt': lines(10, 'b') });
    await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/stable']);
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: one', { 'a.txt': lines(10, 'a').replace('a line 2\n', 'a line two\n') });
    await commitFiles(work, 'b: two', { 'b.txt': lines(10, 'b').replace('b line 5\n', 'b line five\n') });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master', 'stable'] } });
    const bad = await seriesFrom(work, `${base}..HEAD`, project, { id: 'bad', repo: 'demo', branch: 'master' }, root);
    const good = await seriesFrom(work, `${base}..HEAD`, project, { id: 'good', repo: 'demo', branch: 'stable' }, root);
    // master moves on with a clashing change to b.txt
    await work.run(['reset', '--quiet', '--hard', base]);
    const moved = await commitFiles(work, 'b: clash', { 'b.txt': lines(10, 'b').replace('b line 5\n', 'b line 5 changed upstream\n') });
    await work.run(['push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/master']);
    writeHarvest(project.runDir, [bad, good]);

    const { code, result } = await runApply(project);
    expect(code).toBe(3);
    const failed = result.series.find((s) => s.id === 'bad')!;
    expect(failed.status).toBe('failed');
    expect(failed.commits).toEqual([]);
    expect(failed.failure).toMatchObject({ kind: 'conflict', patch: { number: 2, subject: 'b: two', messageId: bad.patches[1]!.messageId, file: bad.patches[1]!.file }, files: ['b.txt'] });
    expect(failed.failure!.message).toMatch(/b\.txt/);
    expect(await remoteRef(remote, 'master')).toBe(moved);
    const clone = new Git(join(project.stateDir, 'repos', 'demo'));
    expect(existsSync(join(clone.dir, '.git', 'rebase-apply'))).toBe(false);
    expect(result.series.find((s) => s.id === 'good')!.status).toBe('applied');
    expect(await remoteRef(remote, 'stable')).toBe(result.series.find((s) => s.id === 'good')!.commits[1]!.sha);

    // a conflict waits for its branch to move: the next run leaves it alone ...
    const waiting = await runApply(project, { branch: 'master' });
    expect(waiting.code).toBe(0);
    expect(waiting.result.series).toEqual([]);
    // ... and tries it again once the branch moved (still conflicting: the step fails)
    await commitFiles(work, 'c: unrelated', { 'c.txt': 'c\n' });
    await work.run(['push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/master']);
    const allBad = await runApply(project, { branch: 'master' });
    expect(allBad.code).toBe(1);
    expect(allBad.result.series.map((s) => [s.id, s.status])).toEqual([['bad', 'failed']]);
  });

  test('a rename, a mode change, a binary patch and a new empty file', async () => {
    const binary = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 256));
    const { work, remote } = await makeRemote(root, { 'old-name.txt': lines(12, 'r'), 'script.sh': '#!/bin/sh\necho hi\n', 'logo.bin': binary });
    const base = (await work.revParse('HEAD'))!;
    await work.run(['mv', 'old-name.txt', 'new-name.txt']);
    await commitFiles(work, 'rename it', {});
    await work.run(['update-index', '--chmod=+x', 'script.sh']);
    await commitFiles(work, 'make script executable', { 'script.sh': { content: '#!/bin/sh\necho hi\n', executable: true } });
    await commitFiles(work, 'new logo', { 'logo.bin': Buffer.concat([binary.subarray(0, 300), Buffer.from([0, 1, 2, 255]), binary.subarray(300)]) });
    await commitFiles(work, 'add an empty marker', { 'empty.txt': '' });
    const expected = await treeListing(work, 'HEAD');
    expect(expected).toMatch(/^100755 blob \S+\tscript\.sh$/m);
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    writeHarvest(project.runDir, [await seriesFrom(work, `${base}..HEAD`, project, { id: 'kinds', repo: 'demo', branch: 'master' }, root)]);

    const { code, result } = await runApply(project);
    expect(code).toBe(0);
    expect(result.series[0]!.commits).toHaveLength(4);
    expect(await treeListing(new Git(remote), 'master')).toBe(expected);
  });

  test('series of one branch go in arrival order of their first patch; a per-repo order can keep harvest.json order', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a'), 'b.txt': lines(10, 'b') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': 'a\n' });
    const a = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'b: edit', { 'b.txt': 'b\n' });
    for (const [order, expected] of [['arrival', ['b: edit', 'a: edit']], ['harvest', ['a: edit', 'b: edit']]] as const) {
      const dir = join(root, order);
      const project = makeProject(dir, { demo: { url: '../remote.git', branches: ['master'], apply: { order } } });
      const first = await seriesFrom(work, `${base}..${a}`, project, { id: 'first-listed', repo: 'demo', branch: 'master', firstArrival: '2023-02-10T10:00:00Z' }, dir);
      const second = await seriesFrom(work, `${a}..HEAD`, project, { id: 'arrived-first', repo: 'demo', branch: 'master', firstArrival: '2023-02-10T09:00:00Z' }, dir);
      writeHarvest(project.runDir, [first, second]);
      await new Git(remote).run(['update-ref', 'refs/heads/master', base]);
      const { code } = await runApply(project);
      expect(code).toBe(0);
      expect((await new Git(remote).output(['log', '--reverse', '--format=%s', `${base}..master`])).split('\n')).toEqual(expected);
    }
  });

  test('--dry-run applies in a throwaway worktree and pushes nothing', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': 'changed\n' });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    writeHarvest(project.runDir, [await seriesFrom(work, `${base}..HEAD`, project, { id: 's', repo: 'demo', branch: 'master' }, root)]);
    const { code, result } = await runApply(project, { dryRun: true });
    expect(code).toBe(0);
    expect(result.dryRun).toBe(true);
    expect(result.series[0]!.status).toBe('applied');
    expect(result.branches[0]).toMatchObject({ pushed: false, baseCommit: base });
    expect(await remoteRef(remote, 'master')).toBe(base);
    const clone = new Git(join(project.stateDir, 'repos', 'demo'));
    expect((await clone.output(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
    expect(readdirSync(join(project.stateDir, 'tmp'))).toEqual([]);
    // A dry run killed mid-way leaves its worktree: the next run of the repo removes it.
    await clone.run(['worktree', 'add', '--quiet', '--detach', join(project.stateDir, 'tmp', 'demo@killed'), base]);
    await runApply(project, { dryRun: true });
    expect(readdirSync(join(project.stateDir, 'tmp'))).toEqual([]);
    expect((await clone.output(['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
    expect(await clone.revParse(result.series[0]!.commits[0]!.sha)).toBeDefined();
  });

  test('a staging branch from pushPattern, and a Link: trailer from linkUrl that a re-run recognises', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': 'changed\n' });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } }, { pushPattern: 'patchline/{branch}/{date}', linkUrl: 'https://lore.example.org/r/{messageId}' });
    const series = await seriesFrom(work, `${base}..HEAD`, project, { id: 's', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [series]);
    const { code, result } = await runApply(project);
    expect(code).toBe(0);
    const target = result.branches[0]!.target;
    expect(target).toMatch(/^patchline\/master\/\d{4}-\d{2}-\d{2}$/);
    expect(await remoteRef(remote, 'master')).toBe(base);
    const msg = await new Git(remote).output(['log', '-1', '--format=%B', `refs/heads/${target}`]);
    expect(msg).toContain(`Link: https://lore.example.org/r/${series.patches[0]!.messageId}`);
    expect(msg).not.toMatch(/Message-Id:/i);
    expect(result.series[0]!.commits[0]!.sha).toBe(await remoteRef(remote, target));
    rmSync(join(project.stateDir, 'ledger'), { recursive: true }); // as if the run died before the ledger write
    const again = await runApply(project);
    expect(again.result.series[0]).toMatchObject({ status: 'already-applied', alreadyApplied: [expect.objectContaining({ how: 'message-id' })] });
  });

  test('a push rejected because the remote moved: fetch, apply again on the new tip, push', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a'), 'b.txt': lines(10, 'b') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': lines(10, 'a').replace('a line 1\n', 'A\n') });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    writeHarvest(project.runDir, [await seriesFrom(work, `${base}..HEAD`, project, { id: 's', repo: 'demo', branch: 'master' }, root)]);
    // Another developer's commit lands on master while our push is on its way (the remote's hook moves the ref once).
    await work.run(['reset', '--quiet', '--hard', base]);
    const theirs = await commitFiles(work, 'b: theirs', { 'b.txt': 'theirs\n' });
    await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/incoming']);
    const hook = join(remote, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nif [ ! -e moved ]; then touch moved; env -u GIT_QUARANTINE_PATH git update-ref refs/heads/master ${theirs}; fi\n`, { mode: 0o755 });

    const { code, result } = await runApply(project);
    expect(code).toBe(0);
    expect(result.branches[0]).toMatchObject({ pushed: true, retried: true, baseCommit: theirs });
    expect(result.series[0]).toMatchObject({ status: 'applied', baseCommit: theirs });
    const r = new Git(remote);
    expect((await r.output(['log', '--format=%s', 'master'])).split('\n')).toEqual(['a: edit', 'b: theirs', 'base']);
    expect(readFileSync(join(remote, 'moved'), 'utf8')).toBe('');
  });

  test('part of a series already upstream: only the rest is applied; a push the remote refuses fails the series (exit 1)', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a'), 'b.txt': lines(10, 'b') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': lines(10, 'a').replace('a line 4\n', 'a line IV\n') });
    await commitFiles(work, 'b: edit', { 'b.txt': lines(10, 'b').replace('b line 4\n', 'b line IV\n') });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    const series = await seriesFrom(work, `${base}..HEAD`, project, { id: 's', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [series]);
    await work.run(['push', '--quiet', 'origin', 'HEAD~1:refs/heads/master']); // upstream took 1/2 (by hand: no Message-Id)

    writeFileSync(join(remote, 'hooks', 'pre-receive'), '#!/bin/sh\necho "branch is frozen" >&2\nexit 1\n', { mode: 0o755 });
    const refused = await runApply(project);
    expect(refused.code).toBe(1);
    expect(refused.result.series[0]).toMatchObject({ status: 'failed', failure: { kind: 'push' } });
    expect(refused.result.series[0]!.failure!.message).toMatch(/pre-receive hook declined/);
    expect(refused.result.branches[0]).toMatchObject({ pushed: false, retried: false, error: { code: 'EPUSH' } });

    writeFileSync(join(remote, 'hooks', 'pre-receive'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const { code, result } = await runApply(project);
    expect(code).toBe(0);
    expect(result.series[0]!.alreadyApplied).toEqual([expect.objectContaining({ number: 1, how: 'patch-id', sha: (await work.revParse('HEAD~1'))! })]);
    expect(result.series[0]!.commits.map((c) => [c.number, c.subject])).toEqual([[2, 'b: edit']]);
    expect((await new Git(remote).output(['log', '--format=%s', 'master'])).split('\n')).toEqual(['b: edit', 'a: edit', 'base']);
  });

  test('a repo whose remote cannot be fetched fails its series with git\'s message; other repos go on (exit 3)', async () => {
    const { work } = await makeRemote(root, { 'a.txt': lines(10, 'a') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': 'changed\n' });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] }, gone: { url: 'no-such-remote.git', branches: ['master'] } });
    const good = await seriesFrom(work, `${base}..HEAD`, project, { id: 'good', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [{ ...good, id: 'lost', repo: 'gone' }, good]);
    const { code, result } = await runApply(project);
    expect(code).toBe(3);
    expect(result.series.find((s) => s.id === 'lost')).toMatchObject({ status: 'failed', failure: { kind: 'git', message: expect.stringMatching(/no-such-remote\.git/) } });
    expect(result.branches.find((b) => b.repo === 'gone')).toMatchObject({ pushed: false, error: { code: 'EGIT' } });
    expect(result.series.find((s) => s.id === 'good')!.status).toBe('applied');
  });

  test('two applies of one repo at the same time take turns on the working clone: the series lands once', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': 'changed\n' });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    const series = await seriesFrom(work, `${base}..HEAD`, project, { id: 's', repo: 'demo', branch: 'master' }, root);
    const other = { ...project, runDir: join(project.stateDir, 'runs', '20230210T000001Z') };
    mkdirSync(other.runDir, { recursive: true });
    writeHarvest(project.runDir, [series]);
    writeHarvest(other.runDir, [series]);
    // the state lock makes them take turns; the second finds the series applied in the ledger
    const runs = await Promise.all([runApply(project), runApply(other)]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(runs.map((r) => r.result.series.map((s) => s.status)).flat()).toEqual(['applied']);
    expect(await new Git(remote).output(['rev-list', '--count', `${base}..master`])).toBe('1');
  });

  test('mail-borne names reach git only as arguments: shell metacharacters never run, unknown branches are refused', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(10, 'a') });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'a: edit', { 'a.txt': 'changed\n' });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    const good = await seriesFrom(work, `${base}..HEAD`, project, { id: 'files-$(touch MARKER)', repo: 'demo', branch: 'master' }, root);
    // The patch file itself carries shell syntax in its name: it must reach git am as a plain argument.
    const evilName = good.patches[0]!.file.replace(/[^/]+$/, '0001-$(touch MARKER);touch MARKER `touch MARKER`.patch');
    writeFileSync(join(project.stateDir, evilName), readFileSync(join(project.stateDir, good.patches[0]!.file)));
    good.patches[0]!.file = evilName;
    const hostile = ['master;touch MARKER', '$(touch MARKER)', '--upload-pack=touch MARKER', '-b', 'master`touch MARKER`', 'next'].map((branch, i) => ({ ...good, id: `hostile-${i}`, branch }));
    writeHarvest(project.runDir, [...hostile, { ...good, id: 'hostile-repo', repo: 'demo;touch MARKER' }, good]);

    const { code, result } = await runApply(project);
    expect(code).toBe(3);
    for (const s of result.series.filter((x) => x.id.startsWith('hostile'))) {
      expect(s).toMatchObject({ status: 'failed', failure: { kind: 'refused' } });
      expect(s.failure!.message).toMatch(/not a configured (branch|repo)/);
    }
    expect(result.series.find((s) => s.id === good.id)!.status).toBe('applied');
    for (const dir of [root, project.stateDir, join(project.stateDir, 'repos', 'demo'), process.cwd()]) expect(existsSync(join(dir, 'MARKER'))).toBe(false);
    expect(await new Git(remote).output(['for-each-ref', '--format=%(refname)'])).toBe('refs/heads/master');
  });
});

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Git } from '../../src/git/git.js';
import { fastHistory, fastHistoryBase, makeProject, makeRemote, removeDir, tempDir, writeHarvest } from '../support/git-fixtures.js';
import { remoteRef, runApply, seriesFrom, treeListing } from './helpers.js';

const PATCHES = 150;

describe('apply: a run killed in the middle of git am', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir();
  });
  afterAll(() => removeDir(root));

  test('the next run recovers the clone: no half-applied series, nothing applied twice', async () => {
    const { work, remote } = await makeRemote(root, fastHistoryBase());
    const base = (await work.revParse('HEAD'))!;
    await fastHistory(work, PATCHES);
    const expected = await treeListing(work, 'HEAD');
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    writeHarvest(project.runDir, [await seriesFrom(work, `${base}..HEAD`, project, { id: 'long', repo: 'demo', branch: 'master' }, root)]);

    const step = spawn(process.execPath, ['dist/steps/apply.js', '--config', project.config, '--run-dir', project.runDir, '--quiet'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((done) => step.on('exit', done));
    const clone = join(project.stateDir, 'repos', 'demo');
    const next = join(clone, '.git', 'rebase-apply', 'next');
    let at = 0;
    while (at < 5 && step.exitCode === null) {
      await sleep(5);
      at = existsSync(next) ? Number(readFileSync(next, 'utf8').trim() || 0) : 0;
    }
    process.kill(-step.pid!, 'SIGKILL');
    await exited;
    expect(at).toBeGreaterThanOrEqual(5);
    expect(existsSync(join(clone, '.git', 'rebase-apply'))).toBe(true);
    expect(await new Git(clone).revParse('HEAD')).not.toBe(base);
    expect(await remoteRef(remote, 'master')).toBe(base);

    const { code, result } = await runApply(project);
    expect(code).toBe(0);
    expect(result.series[0]).toMatchObject({ status: 'applied', baseCommit: base, alreadyApplied: [] });
    expect(result.series[0]!.commits).toHaveLength(PATCHES);
    expect(existsSync(join(clone, '.git', 'rebase-apply'))).toBe(false);
    const r = new Git(remote);
    expect(await r.output(['rev-list', '--count', `${base}..master`])).toBe(String(PATCHES));
    expect(await treeListing(r, 'master')).toBe(expected);
  });
});

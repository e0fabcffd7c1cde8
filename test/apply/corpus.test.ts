import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { executeStep } from '../../src/core/step.js';
import { readResult } from '../../src/core/results.js';
import { Git } from '../../src/git/git.js';
import { FIXTURE_ENV, makeRemote, removeDir, tempDir, writeTree } from '../support/git-fixtures.js';
import { reconstructBase } from './base-tree.js';
import { runApply, treeListing } from './helpers.js';

const CORPUS = resolve(process.cwd(), 'test/fixtures/corpus');

interface ExpectedMessage {
  file: string;
  message_id: string;
  date_header: string;
  from_name: string;
  from_email: string;
  commit_subject: string;
}
const expected = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as { messages: ExpectedMessage[] };
const byFile = new Map(expected.messages.map((m) => [m.file.replace(/^messages\//, ''), m]));

/** The corpus series apply gets (S1 v1 is superseded, S2 incomplete, X1 unroutable: the harvest holds them back). */
const SERIES = [
  { id: 'S4', branch: 'master', files: ['002-s4-single.eml'] },
  { id: 'S1v2', branch: 'master', files: ['009-s1v2-1.eml', '010-s1v2-2.eml', '011-s1v2-3.eml', '012-s1v2-4.eml'] },
  { id: 'S5', branch: 'master', files: ['029-s5-single.eml'] },
  { id: 'S3', branch: 'stable-1.32', files: ['022-s3-1.eml', '024-s3-2.eml', '021-s3-3.eml', '023-s3-4.eml'] },
];
const REVIEWED = 'Reviewed-by: Reviewer One <reviewer1@example.org>';
const TESTED = 'Tested-by: Tester Two <tester2@example.net>';

function trailersFor(series: string, number: number): string[] {
  if (series !== 'S1v2') return [];
  return number === 3 ? [REVIEWED, TESTED] : [REVIEWED];
}

describe('apply: the corpus through the real harvest, S1 v2, S3, S4, S5 onto fixture repos rebuilt from their patches', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir();
  });
  afterAll(() => removeDir(root));

  test('every ready series applies; trees equal plain git am of the same files; author, date, subject, trailers, Message-ID kept', async () => {
    const config = join(root, 'patchline.yaml');
    writeFileSync(
      config,
      stringify({
        stateDir: 'state',
        sources: [{ name: 'corpus', type: 'mbox', path: join(CORPUS, 'all.mbox') }],
        repos: { nbdkit: { url: 'remote.git', branches: ['master', 'stable-1.32'] } },
        apply: { committer: { name: 'Patch Line', email: 'pl@example.org' }, gate: 'none', trustedSenders: ['*'] },
      }),
    );
    const stateDir = join(root, 'state');
    const runDir = join(stateDir, 'runs', 'corpus');
    expect(await executeStep('harvest', { config, runDir, quiet: true })).toBe(0);
    const harvest = readResult(runDir, 'harvest');
    const idOf = new Map(SERIES.map((s) => [byFile.get(s.files[0]!)!.message_id, s.id]));
    const harvested = new Map(harvest.series.filter((s) => s.status === 'ready').map((s) => [idOf.get(s.patches[0]!.messageId) ?? s.id, s]));
    expect([...harvested.keys()].sort()).toEqual(SERIES.map((s) => s.id).sort());

    // Base trees on which the harvested patch files apply, one per branch.
    const patchFiles = (branch: string) => SERIES.filter((s) => s.branch === branch).flatMap((s) => harvested.get(s.id)!.patches.map((p) => join(stateDir, p.file)));
    const baseOf = (branch: string) =>
      Object.fromEntries([...reconstructBase(patchFiles(branch).map((f) => readFileSync(f, 'utf8')))].map(([p, f]) => [p, f.executable ? { content: f.content, executable: true as const } : f.content]));
    const { work, remote } = await makeRemote(root, baseOf('master'), 'master');
    await work.run(['checkout', '--quiet', '--orphan', 'stable-1.32']);
    await work.run(['rm', '-r', '--quiet', '--cached', '.']);
    await work.run(['clean', '-fdxq']);
    writeTree(work.dir, baseOf('stable-1.32'));
    await work.run(['add', '-A']);
    await work.run(['commit', '--quiet', '-m', 'stable base']);
    await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/stable-1.32']);

    const { code, result } = await runApply({ config, runDir });
    const idOfResult = (id: string) => [...harvested].find(([, s]) => s.id === id)![0];
    expect(result.series.map((s) => [idOfResult(s.id), s.status, s.failure?.message])).toEqual([
      ['S4', 'applied', undefined],
      ['S1v2', 'applied', undefined],
      ['S5', 'applied', undefined],
      ['S3', 'applied', undefined],
    ]);
    expect(code).toBe(0);
    const r = new Git(remote);
    const plain = new Git(join(root, 'plain'), FIXTURE_ENV);
    await new Git(root).run(['clone', '--quiet', remote, plain.dir]);
    for (const branch of ['master', 'stable-1.32']) {
      const base = result.branches.find((b) => b.branch === branch)!.baseCommit!;
      await plain.run(['checkout', '--quiet', '--detach', base]);
      await plain.run(['am', '--quiet', '--', ...patchFiles(branch)]);
      expect(await treeListing(r, `refs/heads/${branch}`)).toBe(await treeListing(plain, 'HEAD'));
      expect(await r.output(['diff', '--stat', base, `refs/heads/${branch}`])).not.toBe('');
    }

    for (const s of SERIES) {
      const applied = result.series.find((x) => x.id === harvested.get(s.id)!.id)!;
      expect(applied.commits.map((c) => c.messageId)).toEqual(s.files.map((f) => byFile.get(f)!.message_id));
      for (const [i, c] of applied.commits.entries()) {
        const m = byFile.get(s.files[i]!)!;
        const [author, email, at, subject, committer, body] = (await r.output(['show', '-s', '--format=%an%x00%ae%x00%at%x00%s%x00%cn <%ce>%x00%B', c.sha])).split('\0');
        expect([author, email, subject, committer]).toEqual([m.from_name, m.from_email, m.commit_subject, 'Patch Line <pl@example.org>']);
        expect(Number(at) * 1000).toBe(Date.parse(m.date_header));
        expect(body).toContain(`Message-Id: <${m.message_id}>`);
        for (const t of trailersFor(s.id, i + 1)) expect(body!.split(t).length - 1).toBe(1);
        if (s.id === 'S1v2' && i !== 2) expect(body).not.toContain(TESTED);
      }
    }
    expect(result.series.find((s) => s.id === harvested.get('S5')!.id)!.commits[0]!.subject).toMatch(/\[partial port\]$/);
    rmSync(plain.dir, { recursive: true, force: true });
  });
});

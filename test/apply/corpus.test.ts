import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseMessage } from '../../src/harvest/mail/extract.js';
import { renderPatchBytes } from '../../src/harvest/patch-file.js';
import { Git } from '../../src/git/git.js';
import { archivePatches, FIXTURE_ENV, makeProject, makeRemote, removeDir, tempDir, writeHarvest, writeTree, type FixtureSeries } from '../support/git-fixtures.js';
import { reconstructBase } from './base-tree.js';
import { runApply, treeListing } from './helpers.js';

const CORPUS = resolve(process.cwd(), '../shared/corpus');

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

/** The corpus series apply wants (S1 v1 is superseded, S2 incomplete, X1 unroutable: harvest holds them back). */
const SERIES = [
  { id: 'S4', branch: 'master', files: ['002-s4-single.eml'], arrival: '2023-01-13T23:30:12Z' },
  { id: 'S1v2', branch: 'master', files: ['009-s1v2-1.eml', '010-s1v2-2.eml', '011-s1v2-3.eml', '012-s1v2-4.eml'], arrival: '2023-02-06T10:00:00Z' },
  { id: 'S5', branch: 'master', files: ['029-s5-single.eml'], arrival: '2023-03-09T00:00:00Z' },
  { id: 'S3', branch: 'stable-1.32', files: ['022-s3-1.eml', '024-s3-2.eml', '021-s3-3.eml', '023-s3-4.eml'], arrival: '2023-02-08T23:59:58Z' },
];
const REVIEWED = 'Reviewed-by: Reviewer One <reviewer1@example.org>';
const TESTED = 'Tested-by: Tester Two <tester2@example.net>';

function trailersFor(series: string, number: number): string[] {
  if (series !== 'S1v2') return [];
  return number === 3 ? [REVIEWED, TESTED] : [REVIEWED];
}

const parsed = new Map([...byFile.keys()].map((f) => [f, parseMessage(readFileSync(join(CORPUS, 'messages', f)))]));

describe('apply: the corpus series S1 v2, S3, S4, S5 on fixture repos rebuilt from their patches', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir();
  });
  afterAll(() => removeDir(root));

  test('every series applies; trees equal plain git am of the same files; author, date, subject, trailers, Message-ID kept', async () => {
    const diffsOf = (branch: string) => SERIES.filter((s) => s.branch === branch).flatMap((s) => s.files.map((f) => parsed.get(f)!.extraction.diff));
    const toFixture = (files: Map<string, { content: string; executable: boolean }>) =>
      Object.fromEntries([...files].map(([p, f]) => [p, f.executable ? { content: f.content, executable: true as const } : f.content]));
    const { work, remote } = await makeRemote(root, toFixture(reconstructBase(diffsOf('master'))), 'master');
    await work.run(['checkout', '--quiet', '--orphan', 'stable-1.32']);
    await work.run(['rm', '-r', '--quiet', '--cached', '.']);
    await work.run(['clean', '-fdxq']);
    writeTree(work.dir, toFixture(reconstructBase(diffsOf('stable-1.32'))));
    await work.run(['add', '-A']);
    await work.run(['commit', '--quiet', '-m', 'stable base']);
    await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/stable-1.32']);

    // The patch files as the harvest writes them (its own renderer), review trailers merged in.
    const project = makeProject(root, { nbdkit: { url: 'remote.git', branches: ['master', 'stable-1.32'] } }, { committer: { name: 'Patch Line', email: 'pl@example.org' } });
    const series: FixtureSeries[] = SERIES.map((s) => {
      const files = s.files.map((f, i) => {
        const e = parsed.get(f)!.extraction;
        return { name: f.replace(/\.eml$/, '.patch'), content: renderPatchBytes(e, { messageId: byFile.get(f)!.message_id, number: i + 1, total: s.files.length, extraTrailers: trailersFor(s.id, i + 1) }) };
      });
      const rel = archivePatches(project.stateDir, { repo: 'nbdkit', branch: s.branch, series: s.id }, files);
      return {
        id: s.id,
        repo: 'nbdkit',
        branch: s.branch,
        firstArrival: s.arrival,
        patches: s.files.map((f, i) => ({ file: rel[i]!, messageId: byFile.get(f)!.message_id, subject: byFile.get(f)!.commit_subject, author: { name: byFile.get(f)!.from_name, email: byFile.get(f)!.from_email }, date: parsed.get(f)!.extraction.date, trailers: trailersFor(s.id, i + 1) })),
      };
    });
    // harvest.json lists them out of arrival order: apply must order S4, S1 v2, S5 on master.
    writeHarvest(project.runDir, [series[2]!, series[1]!, series[3]!, series[0]!]);

    const { code, result } = await runApply(project);
    expect(result.series.map((s) => [s.id, s.status, s.failure?.message])).toEqual([
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
      const files = SERIES.filter((s) => s.branch === branch).flatMap((s) => series.find((x) => x.id === s.id)!.patches.map((p) => join(project.stateDir, p.file)));
      await plain.run(['am', '--quiet', '--', ...files]);
      expect(await treeListing(r, `refs/heads/${branch}`)).toBe(await treeListing(plain, 'HEAD'));
      expect(await r.output(['diff', '--stat', base, `refs/heads/${branch}`])).not.toBe('');
    }

    for (const s of SERIES) {
      const applied = result.series.find((x) => x.id === s.id)!;
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
    expect(result.series.find((s) => s.id === 'S5')!.commits[0]!.subject).toMatch(/\[partial port\]$/);
    rmSync(plain.dir, { recursive: true, force: true });
  });
});

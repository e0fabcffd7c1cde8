/**
 * What a failed git am leaves for a person: the files git named (also when --3way finds no
 * preimage blob), the part of the patch that does not apply, and a shell line that, pasted in a
 * clone, stops exactly where the apply did. All with real git; the command is run by the test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failingHunks } from '../../src/apply/failing-hunk.js';
import { Git } from '../../src/git/git.js';
import { seriesOutcome } from '../../src/report/outcome.js';
import { readRunFiles } from '../../src/report/run-files.js';
import { loadTemplates } from '../../src/report/templates.js';
import { seriesView } from '../../src/report/view.js';
import { commitFiles, FIXTURE_ENV, formatPatches, makeProject, makeRemote, removeDir, tempDir, writeHarvest, writeTree } from '../support/git-fixtures.js';
import { runApply, seriesFrom } from './helpers.js';

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i + 1}`).join('\n') + '\n';

/** A repo of its own (not the remote's history): patches made here carry blob ids the remote never saw. */
async function upstream(dir: string, files: Record<string, string>): Promise<Git> {
  mkdirSync(dir, { recursive: true });
  const git = new Git(dir, FIXTURE_ENV);
  await git.run(['init', '--quiet', '-b', 'master']);
  writeTree(dir, files);
  await git.run(['add', '-A']);
  await git.run(['commit', '--quiet', '-m', 'upstream base']);
  return git;
}

/** The conflict mail's text part, rendered from the run's result files as the report step does. */
function conflictText(runDir: string): string {
  const files = readRunFiles(runDir);
  const series = files.harvest!.series[0]!;
  return loadTemplates().render('apply-conflict.text.hbs', seriesView(files, seriesOutcome(files, series)));
}

/** The line after "To see it by hand, in a clone of <repo>:". */
function commandIn(text: string): string {
  const m = /To see it by hand, in a clone of demo:\n(.+)\n/.exec(text);
  if (!m) throw new Error(`no command in:\n${text}`);
  return m[1]!;
}

/** Paste `command` into sh in a fresh clone of `remote`, as a person would. */
async function runByHand(root: string, remote: string, command: string): Promise<{ code: number; out: string; clone: Git }> {
  const dir = join(root, 'by-hand');
  await new Git(root).run(['clone', '--quiet', remote, dir]);
  const r = spawnSync('sh', ['-c', command], { cwd: dir, env: { ...process.env, ...FIXTURE_ENV }, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}`, clone: new Git(dir, FIXTURE_ENV) };
}

describe('apply: a failed git am, explained and reproducible', () => {
  let root: string;
  beforeEach(() => {
    // quotes, spaces and a command substitution in every path: the printed command must survive them
    root = join(tempDir(), `it's a $(touch pwned) dir`);
    mkdirSync(root, { recursive: true });
  });
  afterEach(() => removeDir(join(root, '..')));

  test('--3way without the preimage blob: the file is named, its hunk shown, and the printed command fails the same way', async () => {
    const up = await upstream(join(root, 'upstream'), { 'f.txt': 'one\ntwo\nthree\n', 'g.txt': 'shared\n' });
    await commitFiles(up, 'change f and g', { 'f.txt': 'one\nTWO\nthree\n', 'g.txt': 'shared, changed\n' });
    // the project's repo has f.txt with other content (its blob is not the patch's preimage) and the same g.txt
    const { remote } = await makeRemote(root, { 'f.txt': 'uno\ndos\ntres\n', 'g.txt': 'shared\n' });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } });
    const series = await seriesFrom(up, 'HEAD~1..HEAD', project, { id: 'lacking', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [series]);

    const { result } = await runApply(project);
    const s = result.series[0]!;
    expect(s.status).toBe('failed');
    expect(s.failure).toMatchObject({ kind: 'conflict', files: ['f.txt'], patch: { number: 1 } });
    expect(s.failure!.message).toContain('sha1 information is lacking or useless (f.txt)');
    expect(s.failure!.hunk!.split('\n').filter((l) => !l.startsWith('index '))).toEqual(['diff --git a/f.txt b/f.txt', '--- a/f.txt', '+++ b/f.txt', '@@ -1,3 +1,3 @@', ' one', '-two', '+TWO', ' three']);
    const archived = join(project.stateDir, series.patches[0]!.file);
    expect(s.failure!.reproduce).toEqual({ threeWay: true, patches: [archived] });

    const text = conflictText(project.runDir);
    expect(text).toContain('Files: f.txt\n');
    expect(text).toContain(`The part of the patch that does not apply:\ndiff --git a/f.txt b/f.txt\n`);
    expect(text).toContain('-two\n+TWO\n three\n');
    expect(text).not.toContain('g.txt');
    const command = commandIn(text);
    expect(command).toBe(`git checkout --detach ${s.baseCommit} && git am --3way -- '${archived.replace(/'/g, `'\\''`)}'`);

    const byHand = await runByHand(root, remote, command);
    expect(byHand.code).not.toBe(0);
    expect(byHand.out).toContain('error: sha1 information is lacking or useless (f.txt).');
    expect(byHand.out).toContain('Patch failed at 0001 change f and g');
    expect(existsSync(join(byHand.clone.dir, '.git', 'rebase-apply'))).toBe(true);
    expect(await byHand.clone.revParse('HEAD')).toBe(s.baseCommit);
    expect(existsSync(join(byHand.clone.dir, 'pwned'))).toBe(false);
  });

  test('without --3way, of a two-patch series: only the hunk git named, and the command takes both patches up to the failing one', async () => {
    const { work, remote } = await makeRemote(root, { 'a.txt': lines(30, 'a'), 'b.txt': 'b\n' });
    const base = (await work.revParse('HEAD'))!;
    await commitFiles(work, 'b: first', { 'b.txt': 'b\nmore b\n' });
    await commitFiles(work, 'a: two places', { 'a.txt': lines(30, 'a').replace('a line 3\n', 'a line three\n').replace('a line 25\n', 'a line twenty-five\n') });
    const project = makeProject(root, { demo: { url: 'remote.git', branches: ['master'] } }, { threeWay: false });
    const series = await seriesFrom(work, `${base}..HEAD`, project, { id: 'two', repo: 'demo', branch: 'master' }, root);
    writeHarvest(project.runDir, [series]);
    await work.run(['reset', '--quiet', '--hard', base]);
    await commitFiles(work, 'a: upstream edit near line 25', { 'a.txt': lines(30, 'a').replace('a line 24\n', 'a line 24 (upstream)\n') });
    await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/master']);

    const { result } = await runApply(project);
    const s = result.series[0]!;
    expect(s.failure).toMatchObject({ kind: 'conflict', files: ['a.txt'], patch: { number: 2 } });
    expect(s.failure!.message).toContain('error: patch failed: a.txt:22');
    const hunk = s.failure!.hunk!.split('\n');
    expect(hunk[0]).toBe('diff --git a/a.txt b/a.txt');
    expect(hunk.filter((l) => l.startsWith('@@'))).toEqual(['@@ -22,7 +22,7 @@ a line 21']);
    expect(hunk).toContain('+a line twenty-five');
    expect(hunk).not.toContain('+a line three');
    expect(s.failure!.reproduce).toEqual({ threeWay: false, patches: series.patches.map((p) => join(project.stateDir, p.file)) });

    const command = commandIn(conflictText(project.runDir));
    expect(command).not.toContain('--3way');
    const byHand = await runByHand(root, remote, command);
    expect(byHand.code).not.toBe(0);
    expect(byHand.out).toContain('error: patch failed: a.txt:22');
    expect(byHand.out).toContain('Patch failed at 0002 a: two places');
    expect(await byHand.clone.output(['log', '-1', '--format=%s'])).toBe('b: first');
  });

  test('the failing hunk of a file whose name git quotes (non-ASCII, spaces) among other files', async () => {
    const name = 'dir/naïve file.txt';
    const up = await upstream(join(root, 'quoted'), { [name]: lines(5, 'n'), 'other.txt': 'o\n' });
    await commitFiles(up, 'both', { [name]: lines(5, 'n').replace('n line 2\n', 'n line II\n'), 'other.txt': 'o\no\n' });
    const [file] = await formatPatches(up, 'HEAD~1..HEAD', join(root, 'fp-quoted'));
    const diff = readFileSync(file!, 'utf8');
    expect(diff).toContain('"a/dir/na\\303\\257ve file.txt"'); // git quoted it

    const hunk = failingHunks(diff, new Map([[name, []]]))!;
    expect(hunk.split('\n')[0]).toBe('diff --git "a/dir/na\\303\\257ve file.txt" "b/dir/na\\303\\257ve file.txt"');
    expect(hunk).toContain('+n line II');
    expect(hunk).not.toContain('other.txt');
    expect(hunk).not.toMatch(/^-- $/m); // format-patch's signature is not part of the diff
    expect(failingHunks(diff, new Map([['other.txt', []]]))).toMatch(/^diff --git a\/other\.txt b\/other\.txt\n(?:.*\n)*\+o$/);
    expect(failingHunks(diff, new Map([['missing.txt', []]]))).toBeUndefined();
  });

  test('a large failing section is cut, saying how much was left out', async () => {
    const up = await upstream(join(root, 'large'), { 'big.txt': lines(600, 'x') });
    await commitFiles(up, 'rewrite', { 'big.txt': lines(600, 'y') });
    const [file] = await formatPatches(up, 'HEAD~1..HEAD', join(root, 'fp-large'));
    const hunk = failingHunks(readFileSync(file!, 'utf8'), new Map([['big.txt', []]]))!.split('\n');
    expect(hunk).toHaveLength(201);
    expect(hunk[200]).toMatch(/^\[\.\.\. \d+ more lines\]$/);
    expect(200 + Number(/\d+/.exec(hunk[200]!)![0])).toBe(4 + 1 + 1200); // diff, index, ---, +++; @@; 600 - and 600 +
  });
});

/**
 * Outages of each system `patchline run` talks to, each followed (once it is over) by plain
 * runs: they must reach the end state of a run that met no outage. The mails may include, once,
 * the notice of the outage itself (a failure mail); every other mail comes exactly once.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { differences, endState, explainRuns, internalErrors, makeProject, type PatchlineRun, type Project } from './resume/support.js';
import { diskHow, fillDisk, tmpfsAllowed, type FullDisk } from './resume/disk.js';
import { expectedState } from './resume/expected.js';
import { say } from './resume/say.js';
import { seriesSpecs } from './resume/workload.js';

const expected = expectedState(seriesSpecs());
/** The failure mails an outage may cause (resources/templates/*.subject.hbs). */
const NOTICES = /^\[patchline\] (harvest|hello\/[\w.-]+: (does not apply|build failed|built, but publishing failed))/;
const USE_TMPFS = tmpfsAllowed();
const SEED_ONLY = { main: ['hello 1.0 | -'], stable: ['hello 1.0 | -'] };

/** After the outage: a plain run, then another; the end state must be the reference's. */
async function recover(name: string, p: Project, outage: PatchlineRun): Promise<void> {
  const rerun = await p.run();
  const final = await p.run();
  const state = await endState(p);
  const notices: string[] = [];
  const diffs = differences(expected, state, { notices: NOTICES }, notices);
  const internal = [outage, rerun, final].flatMap(internalErrors);
  const wrong = [...internal, ...diffs, ...(final.code === 0 ? [] : [`the final run exit ${final.code}`])];
  say(
    `outage ${name}: outage run exit ${outage.code}, rerun exit ${rerun.code}, final exit ${final.code}: ` +
      (wrong.length === 0 ? 'PASS' : `FAIL: ${wrong.slice(0, 4).join('; ')}`) +
      (notices.length ? ` (outage notices mailed: ${notices.join(' | ')})` : ''),
  );
  if (wrong.length) throw new Error(`${wrong.join('\n')}\n${explainRuns([outage, rerun, final])}`);
}

describe('outages: after each one ends, plain runs reach the end state of a run that met none', () => {
  let project: Project | undefined;
  afterEach(async () => {
    await project?.dispose();
    project = undefined;
  });

  test('(a) IMAP: dovecot killed mid-fetch, restarted after the run', async () => {
    const padding = 150;
    const p = (project = await makeProject({ source: 'imap', padding, paddingBytes: 40_000 }));
    let poll: NodeJS.Timeout | undefined;
    let killedAt: number | undefined;
    const outage = await p.run(['run'], {
      onLine(line) {
        if (poll || !/^patchline harvest: run dir /.test(line.text)) return;
        // the moment an imap session serves patchline, then a little into its fetch
        poll = setInterval(() => {
          if (!p.imap!.sessionOpen()) return;
          clearInterval(poll);
          setTimeout(() => {
            killedAt = performance.now();
            p.imap!.kill();
          }, 30);
        }, 2);
      },
    });
    clearInterval(poll);
    expect(killedAt).toBeDefined();
    // the outage must have hit the fetch (not every message read); else the padding is too small for this machine
    expect(outage.stderr).toMatch(/EIMAP/);
    expect(outage.stderr).not.toMatch(new RegExp(`harvest: ${padding + p.workload.messages.length} messages`));
    await p.imap!.restart();
    await recover('(a) IMAP', p, outage);
  });

  test('(b) push refused: a pre-receive hook in the remote exits 1, then is removed', async () => {
    const p = (project = await makeProject());
    const hook = join(p.remote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "outage: the remote refuses every push" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const outage = await p.run();
    expect((await endState(p)).branches).toEqual(SEED_ONLY);
    rmSync(hook);
    await recover('(b) push', p, outage);
  });

  test(`(c) publish disk full (${diskHow(USE_TMPFS)})`, async () => {
    const p = (project = await makeProject());
    let disk: FullDisk | undefined;
    try {
      disk = fillDisk(p.publishDir, USE_TMPFS);
      const outage = await p.run();
      expect((await endState(p)).repos).not.toEqual(expected.repos);
      disk.free();
      await recover('(c) disk full', p, outage);
    } finally {
      disk?.release();
    }
  });

  test('(d) SMTP: the server stopped while the run publishes, started again after the run', async () => {
    const p = (project = await makeProject());
    let stopping: Promise<void> | undefined;
    const outage = await p.run(['run'], {
      onLine(line) {
        if (!stopping && /^patchline publish: run dir /.test(line.text)) stopping = p.smtp.stop();
      },
    });
    await stopping;
    expect(stopping).toBeDefined();
    expect(await p.smtp.mails()).toEqual([]);
    await p.smtp.start();
    await recover('(d) SMTP', p, outage);
  });

  test('(e) a bad apply.pushPattern: exit 2 before any mail is consumed; the fixed config then reaches the reference', async () => {
    const p = (project = await makeProject({ tweak: (c) => void (c.apply = { ...c.apply, pushPattern: 'staging/{nope}' }) }));
    const bad = await p.run();
    const untouched = await endState(p);
    say(`outage (e) bad pushPattern: exit ${bad.code}, then ${JSON.stringify({ ...untouched, mails: untouched.mails.length })}`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/pushPattern/);
    // nothing happened: nothing pushed, published, or mailed (a config error is the operator's, not the list's)
    expect(untouched).toEqual({ branches: SEED_ONLY, repos: {}, mails: [], problems: [] });
    p.writeConfig();
    await recover('(e) bad pushPattern', p, bad);
  });
});

/**
 * Crash safety: the harvest process (dist/steps/harvest.js, built by `npm test`) is killed at
 * random points, then re-run; the archive must equal the one an uninterrupted run writes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appendMessages, startDovecot } from '../support/dovecot.js';
import { CORPUS, CORPUS_FILES, archiveSnapshot, corpusMessage, seededRandom, tempDir, testSeed, writeConfig, writeMaildir } from './support.js';

const STEP = join(process.cwd(), 'dist', 'steps', 'harvest.js');

/**
 * Run the step; SIGKILL it `killAfterMs` after it starts working (its "run dir" line) when given.
 * Resolves with the exit code (null when killed) and how long it worked.
 */
function runStep(config: string, state: string, killAfterMs?: number): Promise<{ code: number | null; workMs: number }> {
  const child = spawn(process.execPath, [STEP, '--config', config, '--state-dir', state], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PL_TEST_IMAP_PASSWORD: 'imap-test-pass' } });
  let stderr = '';
  let working = 0;
  let timer: NodeJS.Timeout | undefined;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (working === 0 && stderr.includes('run dir')) {
      working = Date.now();
      if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== null && code !== 0) reject(new Error(`harvest exited ${code}: ${stderr}`));
      else resolve({ code, workMs: Date.now() - working });
    });
  });
}

async function crashRuns(config: (dir: string) => string, runs: number, random: () => number): Promise<void> {
  const refDir = tempDir('crash-ref');
  const reference = await runStep(config(refDir), join(refDir, 'state'));
  const want = archiveSnapshot(join(refDir, 'state'));
  expect(Object.keys(want).length).toBeGreaterThan(30);
  let killed = 0;
  const stages = { beforeSeenStore: 0, midArchive: 0, afterArchive: 0 };
  for (let run = 0; run < runs; run++) {
    const dir = tempDir('crash');
    const state = join(dir, 'state');
    const cfg = config(dir);
    // a kill at a random point of the work, sometimes a second one during the recovery, then a run to the end
    const kills = random() < 0.3 ? 2 : 1;
    for (let k = 0; k < kills; k++) {
      const { code } = await runStep(cfg, state, Math.floor(random() * reference.workMs));
      if (code === null) {
        killed += 1;
        // where the kill fell: before the seen-store was written, between it and the end of the archive writes, after
        const stage = !existsSync(join(state, 'harvest', 'seen.json')) ? 'beforeSeenStore' : existsSync(join(state, 'harvest', 'pending.json')) ? 'midArchive' : 'afterArchive';
        stages[stage] += 1;
      }
    }
    expect((await runStep(cfg, state)).code).toBe(0);
    expect(archiveSnapshot(state)).toEqual(want);
  }
  expect(killed).toBeGreaterThan(runs / 2);
  process.stdout.write(`kills: ${JSON.stringify(stages)}\n`);
}

test('killed at random points (Maildir and mbox, 20 runs): the re-run archive equals an uninterrupted one', async () => {
  const random = seededRandom(testSeed());
  const maildir = writeMaildir(join(tempDir('crash-mail'), 'Maildir'), CORPUS_FILES.map(corpusMessage));
  await crashRuns((dir) => writeConfig(dir, [{ type: 'maildir', name: 'list', path: maildir }]), 10, random);
  await crashRuns((dir) => writeConfig(dir, [{ type: 'mbox', name: 'list', path: join(CORPUS, 'all.mbox') }]), 10, random);
});

test('killed at random points over IMAP (3 runs)', async () => {
  const random = seededRandom(testSeed());
  const dovecot = await startDovecot();
  try {
    await appendMessages(dovecot, 'INBOX', CORPUS_FILES.map(corpusMessage));
    const source = { type: 'imap', name: 'list', host: dovecot.host, port: dovecot.port, security: 'plain', user: dovecot.user, password: { env: 'PL_TEST_IMAP_PASSWORD' } };
    await crashRuns((dir) => writeConfig(dir, [source]), 3, random);
  } finally {
    await dovecot.stop();
  }
});

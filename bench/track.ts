/**
 * npm run bench:track — one `track scan` over BENCH_TRACK_ITEMS tracking items (default 50), each
 * with BENCH_TRACK_COMMITS new upstream commits (default 20): the scan's wall time against the
 * time spent waiting for git (fetch, clone, format-patch, commits, push, archive) and the rpm
 * tools (rpmspec, rpmbuild -bp, in the sandbox), measured around each child run
 * (src/tracking/timing.ts). Target: patchline's own share ≤ 1 s per item. The review mails go
 * to a local smtp-server. Prints the numbers; asserts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import { stringify } from 'yaml';
import { loadConfig } from '../src/core/config.js';
import { Git } from '../src/git/git.js';
import { scanTracking } from '../src/tracking/scan.js';
import { ItemStore } from '../src/tracking/store.js';
import { childTimes, resetChildTimes } from '../src/tracking/timing.js';
import { writeHistory } from './git-history.js';

const ITEMS = Number(process.env.BENCH_TRACK_ITEMS ?? 50);
const COMMITS = Number(process.env.BENCH_TRACK_COMMITS ?? 20);
const FILES = 20;
const ENV = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.org', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.org' };

function spec(name: string): string {
  return `Name: ${name}\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: bench\nLicense: MIT\nSource0: ${name}-1.0.tar.gz\n\n%description\nbench\n\n%prep\n%setup -q\n\n%build\n\n%install\n\n%files\n\n%changelog\n* Mon Jan 02 2023 Bench <bench@example.org> - 1.0-1\n- first\n`;
}

/** An upstream (FILES-file base tagged v1.0, then COMMITS commits) and a packaging repo; returns the base. */
async function makeWorld(root: string, i: number): Promise<{ upstream: string; packaging: string; base: string }> {
  const upstream = join(root, `up${i}.git`);
  const up = new Git(root, ENV);
  await up.run(['init', '--quiet', '--bare', '-b', 'main', upstream]);
  const upGit = new Git(upstream, ENV);
  // one history: the first FILES commits make the base (tagged v1.0), the last COMMITS are new
  await writeHistory(upGit, { count: FILES + COMMITS, files: FILES, branch: 'main' });
  const base = await upGit.output(['rev-parse', `main~${COMMITS}`]);
  await upGit.run(['tag', 'v1.0', base]);
  const packaging = join(root, `pkg${i}.git`);
  const work = join(root, `pkg${i}-work`);
  await up.run(['init', '--quiet', '--bare', '-b', 'master', packaging]);
  await up.run(['init', '--quiet', '-b', 'master', work]);
  writeFileSync(join(work, `pkg${i}.spec`), spec(`pkg${i}`));
  const w = new Git(work, ENV);
  await w.run(['add', '-A']);
  await w.run(['commit', '--quiet', '-m', 'spec']);
  await w.run(['push', '--quiet', packaging, 'HEAD:refs/heads/master']);
  return { upstream, packaging, base };
}

const root = mkdtempSync(join(tmpdir(), 'pl-bench-track-'));
let mails = 0;
const smtp = new SMTPServer({
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  logger: false,
  onData(stream, _s, cb) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      mails++;
      cb();
    });
  },
});
try {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  console.log(`bench:track: ${ITEMS} items x ${COMMITS} new upstream commits (in ${root})`);
  const t0 = performance.now();
  const worlds = [];
  for (let i = 0; i < ITEMS; i++) worlds.push(await makeWorld(root, i));
  console.log(`  setup                                   ${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s`);
  const configFile = join(root, 'patchline.yaml');
  writeFileSync(
    configFile,
    stringify({
      stateDir: 'state',
      sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
      repos: { pkg0: { url: worlds[0]!.packaging, branches: ['master'] } },
      report: { smtp: { host: '127.0.0.1', port, security: 'plain', from: 'patchline@example.org' } },
      tracking: { reviewTo: ['list@example.org'] },
    }),
  );
  const loaded = loadConfig(configFile);
  const store = new ItemStore(loaded.stateDir);
  for (const [i, w] of worlds.entries()) await store.put({ repo: `pkg${i}`, branch: 'master', packagingUrl: w.packaging, spec: `pkg${i}.spec`, upstreamUrl: w.upstream, upstreamBranch: 'main', enabled: true, lastCommit: w.base });

  resetChildTimes();
  const t1 = performance.now();
  const summary = await scanTracking(loaded, { log: { info: () => undefined, warn: (l) => console.log(`  warning: ${l}`) } });
  const total = performance.now() - t1;
  const child = childTimes();
  const reviewed = summary.items.filter((x) => x.outcome === 'reviewed').length;
  for (const x of summary.items.filter((y) => y.outcome !== 'reviewed')) console.log(`  ${x.repo}: ${x.outcome} ${x.message ?? ''}`);
  const own = total - child.git - child.rpm;
  const s = (ms: number) => `${(ms / 1000).toFixed(2).padStart(7)} s`;
  console.log(`  scan (${reviewed}/${ITEMS} reviewed, ${mails} mails)          ${s(total)}   ${(total / ITEMS).toFixed(0).padStart(5)} ms/item`);
  console.log(`  inside git                              ${s(child.git)}   ${(child.git / ITEMS).toFixed(0).padStart(5)} ms/item`);
  console.log(`  inside rpmspec + rpmbuild -bp           ${s(child.rpm)}   ${(child.rpm / ITEMS).toFixed(0).padStart(5)} ms/item`);
  console.log(`  patchline's own (scan - git - rpm)      ${s(own)}   ${(own / ITEMS).toFixed(0).padStart(5)} ms/item (target <= 1000)`);
  console.log(`    of which mail delivery (SMTP, outbox) ${s(child.mail)}   ${(child.mail / ITEMS).toFixed(0).padStart(5)} ms/item`);
} finally {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
}

import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig, resolveFrom } from '../core/config.js';
import { ExitCode, PatchlineError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { PACKAGE_ROOT } from '../core/paths.js';
import { readResultIfExists } from '../core/results.js';
import { Git } from '../git/git.js';
import { stagingRef } from '../apply/push.js';
import { statusPageOf } from '../report/status-page.js';
import { runPipeline } from './pipeline.js';

export const DEMO_SOURCE = join(PACKAGE_ROOT, 'examples', 'demo');
const DEMO_FILES = ['patchline.yaml', 'mail', 'hello'];
/** Fixed identity and date: every machine makes the same hello.git, so the demo patches apply. */
const SEED_ENV = {
  GIT_AUTHOR_NAME: 'Hello Maintainers',
  GIT_AUTHOR_EMAIL: 'hello@example.org',
  GIT_COMMITTER_NAME: 'Hello Maintainers',
  GIT_COMMITTER_EMAIL: 'hello@example.org',
  GIT_AUTHOR_DATE: '2026-11-01T10:00:00Z',
  GIT_COMMITTER_DATE: '2026-11-01T10:00:00Z',
};

/** A bare repo holding the demo package (examples/demo/hello) as one commit on each configured branch. */
export async function seedRemote(remote: string, files: string, branches: string[]): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'patchline-demo-'));
  try {
    cpSync(files, scratch, { recursive: true });
    const work = new Git(scratch, SEED_ENV);
    await work.run(['init', '-q', '-b', branches[0]!]);
    await work.run(['add', '-A']);
    await work.run(['commit', '-q', '-m', 'hello 1.0']);
    for (const b of branches.slice(1)) await work.run(['branch', b]);
    mkdirSync(remote, { recursive: true });
    await new Git(remote).run(['init', '-q', '--bare', '-b', branches[0]!]);
    await work.run(['push', '-q', remote, ...branches.map((b) => `refs/heads/${b}:refs/heads/${b}`)]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Where `patchline demo` works without --dir: beside where it is run. */
export const DEFAULT_DEMO_DIR = 'patchline-demo';

/** Copy the demo into `dir` (unless it is already there) and return its config path. */
function prepareDemoDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const name of DEMO_FILES) {
    if (!existsSync(join(dir, name))) cpSync(join(DEMO_SOURCE, name), join(dir, name), { recursive: true });
  }
  return join(dir, 'patchline.yaml');
}

function listFiles(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** The lines `patchline demo` ends with: where to look. */
/** The series waiting on a staging ref of the demo's remote (the gate keeps them off the branch). */
async function stagingRefs(remote: string): Promise<string[]> {
  const out = await new Git(remote).output(['for-each-ref', '--format=%(refname:short)', `refs/heads/${stagingRef('')}`]);
  return out.split('\n').filter(Boolean);
}

async function whereToLook(remote: string, stateDir: string, runDir: string | undefined, log: Logger): Promise<void> {
  log.info(`  git repo:     ${remote}  (git -C ${remote} log --oneline main)`);
  const staged = await stagingRefs(remote).catch(() => []);
  log.info(
    staged.length > 0
      ? `  staging refs: series held by the gate (apply.gate), not on the branch:\n                ${staged.map((r) => `${r}  (git -C ${remote} log --oneline ${r})`).join('\n                ')}`
      : `  staging refs: none in ${remote}: every series that passed its gate is on its branch (a held one waits on refs/heads/${stagingRef('<series>')})`,
  );
  if (!runDir) return;
  const report = join(runDir, 'report');
  const mails = listFiles(report, /\.eml$/);
  log.info(`  mails:        ${mails.length ? mails.join('\n                ') : `none in ${report}`}`);
  log.info(`  status page:  ${statusPageOf(stateDir)}`);
  for (const repo of readResultIfExists(runDir, 'publish')?.repos ?? []) log.info(`  yum repo:     ${repo.url} (${repo.key ?? repo.platform}: ${repo.packages.length} packages)`);
  log.info(`  run dir:      ${runDir}`);
}

/**
 * `patchline demo`: the pipeline on examples/demo, on this machine. Makes the demo's git remote
 * on the first run, runs every step, and says where the results are.
 */
export async function runDemo(opts: { dir?: string; quiet?: boolean }, log: Logger = createLogger()): Promise<ExitCode> {
  // never in the package itself: it may be read-only (installed) or a source tree
  const config = prepareDemoDir(resolve(opts.dir ?? DEFAULT_DEMO_DIR));
  let remote: string;
  let stateDir: string;
  try {
    const loaded = loadConfig(config);
    stateDir = loaded.stateDir;
    const [name, repo] = Object.entries(loaded.config.repos)[0]!;
    remote = resolveFrom(loaded.baseDir, repo.url);
    if (!existsSync(remote)) {
      log.info(`patchline demo: first run: making the ${name} repo ${remote} from ${join(DEMO_SOURCE, name)}`);
      await seedRemote(remote, join(DEMO_SOURCE, name), repo.branches);
    }
  } catch (err) {
    const e = err instanceof PatchlineError ? err : new PatchlineError('EINTERNAL', (err as Error).message);
    process.stderr.write(e.toLine() + '\n');
    return e.exitCode;
  }
  const summary = await runPipeline({ config, quiet: opts.quiet }, { log });
  if (summary.nothingNew) {
    log.info('patchline demo: no new mail since the last run: nothing to do. The results of the earlier runs:');
  } else {
    log.info(`patchline demo: done (exit ${summary.code}). Where to look:`);
  }
  await whereToLook(remote, stateDir, summary.nothingNew ? previousRunWithReport(summary.runDir) : summary.runDir, log);
  return summary.code;
}

/** The newest run dir before `runDir` that has a report. */
function previousRunWithReport(runDir: string | undefined): string | undefined {
  if (!runDir) return undefined;
  const runs = join(runDir, '..');
  const ids = readdirSync(runs).filter((id) => existsSync(join(runs, id, 'report'))).sort();
  return ids.length ? join(runs, ids[ids.length - 1]!) : undefined;
}

export function registerDemoCommand(program: Command, onExit: (code: ExitCode) => void): void {
  program.addCommand(
    new Command('demo')
      .description('run the whole pipeline on the bundled example (examples/demo) on this machine, in a copy of it')
      .option('--dir <dir>', `work in a copy of the demo in this directory, results in <dir>/.work (default: ./${DEFAULT_DEMO_DIR})`)
      .option('-q, --quiet', 'only warnings and the summary')
      .action(async (opts: { dir?: string; quiet?: boolean }) => onExit(await runDemo(opts))),
  );
}

import { Command } from 'commander';
import { configOption } from '../core/config-discovery.js';
import { PatchlineError, type ExitCode as ExitCodeType } from '../core/errors.js';
import type { ProjectPlatformStatus, UpstreamStatusView } from './status.js';
import { commandAction } from '../core/command-errors.js';

export interface UpstreamStatusOptions {
  config: string;
  stateDir?: string;
  json?: boolean;
  project?: string;
}

const day = (iso: string) => iso.slice(0, 16).replace('T', ' ');

function describeRow(p: ProjectPlatformStatus): string[] {
  if (p.platform === null) return [`${p.project}: nothing built yet`];
  const out = [`${p.project}/${p.platform}: ${p.status}${p.nvr ? ` ${p.nvr}` : ''}${p.lastBuild ? ` (built ${day(p.lastBuild.builtAt)})` : ''}`];
  const since = p.daysSinceSuccess === null ? 'never succeeded' : `last success ${p.daysSinceSuccess === 0 ? 'today' : `${p.daysSinceSuccess} day${p.daysSinceSuccess === 1 ? '' : 's'} ago`} (${p.lastSuccess!.sha.slice(0, 12)})`;
  out.push(`  ${since}; RETRY ${p.retries} for the latest commit`);
  const ff = p.firstFailure;
  if (ff) {
    out.push(`  first failure after it: ${day(ff.builtAt)} ${ff.commit.sha.slice(0, 12)} ${ff.commit.subject}${ff.failure ? ` (${ff.failure.step}: ${ff.failure.signature})` : ''}`);
    if (ff.firstBadCommit) out.push(`  first bad ${ff.firstBadCommit.packaging ? 'packaging (dist-git) ' : ''}commit: ${ff.firstBadCommit.sha.slice(0, 12)} ${ff.firstBadCommit.subject} (${ff.firstBadCommit.author.name})`);
  }
  return out;
}

/** The text form of what status_report.html and queue.html show. */
export function describeUpstreamStatus(view: UpstreamStatusView): string {
  const out: string[] = [];
  if (view.projects.length === 0) out.push('no upstream project built or queued yet');
  for (const p of view.projects) out.push(...describeRow(p));
  const q = view.queue;
  if (!q) {
    out.push('queue: none yet (written by every `patchline upstream` run)');
  } else {
    out.push(`queue (computed ${day(q.computedAt)} by run ${q.runId}): ${q.items.length} build${q.items.length === 1 ? '' : 's'}`);
    for (const i of q.items) out.push(`  ${i.project}/${i.platform} ${i.commit.sha.slice(0, 12)} ${i.commit.subject} (${i.why})`);
    for (const p of q.projects) if (p.idle) out.push(`  ${p.project}: nothing to build: ${p.idle}${p.detail ? `: ${p.detail}` : ''}`);
  }
  return out.join('\n');
}

/** What `patchline upstream status` prints: the pages' view from the store and the last queue. */
export async function upstreamStatus(opts: UpstreamStatusOptions, now = new Date()): Promise<UpstreamStatusView> {
  const [{ loadConfig }, { openUpstreamStore }, { readUpstreamQueue, upstreamStatusView }] = await Promise.all([import('../core/config.js'), import('./store.js'), import('./status.js')]);
  const loaded = loadConfig(opts.config, { stateDir: opts.stateDir });
  const store = openUpstreamStore(loaded.stateDir);
  try {
    const configured = Object.keys(loaded.config.upstream?.projects ?? {});
    if (opts.project !== undefined && !configured.includes(opts.project) && store.ofProject(opts.project).length === 0) {
      throw new PatchlineError('EUSAGE', `--project ${opts.project}: not a configured upstream project (known: ${configured.join(', ') || 'none'})`, { input: opts.project });
    }
    return upstreamStatusView(store, readUpstreamQueue(loaded.stateDir), { now, commitUrl: loaded.config.upstream?.commitUrl, project: opts.project, projects: configured });
  } finally {
    store.close();
  }
}

/** `patchline upstream status [--json] [--project P]`: what the pages show, from the store. */
export function registerUpstreamStatusCommand(upstream: Command, onExit: (code: ExitCodeType) => void): void {
  upstream.addCommand(
    new Command('status')
      .description('per upstream project and platform: status, NVR, first failure after the last success, days since it, RETRY count; and what the next run builds or why nothing')
      .addOption(configOption())
      .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
      .option('--project <name>', 'only this project')
      .option('--json', 'machine-readable output (the view the pages are rendered from)')
      .action(
        commandAction(onExit, async (opts: UpstreamStatusOptions) => {
          const view = await upstreamStatus(opts);
          process.stdout.write((opts.json ? JSON.stringify(view, null, 2) : describeUpstreamStatus(view)) + '\n');
        }),
      ),
  );
}

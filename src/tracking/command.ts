import { Command, Option } from 'commander';
import { configOption } from '../core/config-discovery.js';
import { ExitCode, PatchlineError, asPatchlineError } from '../core/errors.js';
import { redact } from '../core/secrets.js';
import type { ScanSummary } from './scan.js';
import type { ReviewRecord, TrackingBackend, TrackingItem, TrackingItemInput } from './types.js';
import { commandAction } from '../core/command-errors.js';

/** Options every track subcommand shares: where the items are (local state or a server). */
interface WhereOptions {
  config?: string;
  stateDir?: string;
  server?: string;
  user?: string;
  passwordFile?: string;
  caFile?: string;
  quiet?: boolean;
}

function addWhereOptions(cmd: Command): Command {
  return cmd
    .addOption(configOption('patchline.yaml: its state dir holds the items', { needed: false }))
    .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
    .option('--server <url>', 'act on a `patchline serve` (its REST API) instead of the local state')
    .option('--user <name>', 'with --server: the user writes authenticate as (else $PATCHLINE_SERVER_USER)')
    .option('--password-file <file>', 'with --server: a file whose first line is the password (else $PATCHLINE_SERVER_PASSWORD)')
    .option('--ca-file <file>', "with --server: CA bundle to trust the server's certificate")
    .addOption(new Option('-q, --quiet', 'only warnings and errors').default(false));
}

const keyOptions = (cmd: Command): Command => cmd.requiredOption('--repo <repo>', 'packaging repo name (the item key)').requiredOption('--branch <branch>', 'packaging branch (the item key)');

async function backendFor(o: WhereOptions): Promise<TrackingBackend> {
  if (o.server !== undefined) {
    const { remoteBackend } = await import('./client.js');
    return remoteBackend({ server: o.server, ...(o.user ? { user: o.user } : {}), ...(o.passwordFile ? { passwordFile: o.passwordFile } : {}), ...(o.caFile ? { caFile: o.caFile } : {}) });
  }
  const { localBackend } = await import('./local-backend.js');
  return localBackend(await stateDirOf(o));
}

async function stateDirOf(o: WhereOptions): Promise<string> {
  const { resolve } = await import('node:path');
  if (o.stateDir !== undefined) return resolve(o.stateDir);
  if (o.config === undefined) throw new PatchlineError('EUSAGE', 'no state dir: give --config FILE (its stateDir), --state-dir DIR, or --server URL', { input: 'track' });
  const { loadConfig } = await import('../core/config.js');
  return loadConfig(o.config).stateDir;
}

function print(text: string): void {
  process.stdout.write(redact(text) + '\n');
}


const short = (sha?: string): string => (sha ? sha.slice(0, 12) : '-');

function itemLine(i: TrackingItem): string {
  return `${i.repo} ${i.branch} ${i.enabled ? 'enabled' : 'disabled'} ${i.upstreamBranch}@${i.upstreamUrl} -> ${i.packagingUrl}:${i.spec} last ${short(i.lastCommit)}`;
}

function itemDetails(i: TrackingItem, reviews: ReviewRecord[]): string {
  const rows: Array<[string, string | undefined]> = [
    ['repo', i.repo],
    ['branch', i.branch],
    ['enabled', String(i.enabled)],
    ['packagingUrl', i.packagingUrl],
    ['spec', i.spec],
    ['upstreamUrl', i.upstreamUrl],
    ['upstreamBranch', i.upstreamBranch],
    ['lastCommit', i.lastCommit ?? '(none: starts at the upstream head at the next scan)'],
    ['createdAt', i.createdAt],
    ['updatedAt', i.updatedAt],
  ];
  const lines = rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  for (const r of reviews) lines.push(`review ${r.id}: ${r.state} ${r.trackingBranch}${r.failure ? ` (${r.failure.patch ? `${r.failure.patch}: ` : ''}${r.failure.message})` : ''}`);
  return lines.join('\n');
}

interface AddOptions extends WhereOptions {
  repo?: string;
  branch?: string;
  packagingUrl?: string;
  spec?: string;
  upstreamUrl?: string;
  upstreamBranch?: string;
  lastCommit?: string;
  disabled?: boolean;
  file?: string;
  dir?: string;
}

/** The items `track add` was given: flags, --file or --dir (all checked before any is added). */
async function itemsToAdd(o: AddOptions): Promise<Array<{ where: string; item: TrackingItemInput }>> {
  const { checkItem, readItemDir, readItemFile } = await import('./item-input.js');
  const flags = [o.repo, o.branch, o.packagingUrl, o.spec, o.upstreamUrl, o.upstreamBranch, o.lastCommit].some((v) => v !== undefined);
  const given = [flags, o.file !== undefined, o.dir !== undefined].filter(Boolean).length;
  if (given !== 1) throw new PatchlineError('EUSAGE', 'track add: give the item by flags (--repo --branch --packaging-url --spec --upstream-url --upstream-branch), or --file FILE, or --dir DIR', { input: 'track add' });
  const disabled = o.disabled ? { enabled: false } : {};
  if (o.file !== undefined) return [{ where: o.file, item: { ...readItemFile(o.file), ...disabled } }];
  if (o.dir !== undefined) {
    const { items, errors } = readItemDir(o.dir);
    if (errors.length > 0) {
      for (const e of errors.slice(0, -1)) process.stderr.write(redact(e.toLine()) + '\n');
      throw errors[errors.length - 1]!; // nothing added: fix the files and run again
    }
    if (items.length === 0) throw new PatchlineError('EUSAGE', `no *.yaml file in ${o.dir}`, { input: o.dir });
    return items.map((x) => ({ where: x.file, item: { ...x.item, ...disabled } }));
  }
  const raw: Record<string, unknown> = { repo: o.repo, branch: o.branch, packagingUrl: o.packagingUrl, spec: o.spec, upstreamUrl: o.upstreamUrl, upstreamBranch: o.upstreamBranch, lastCommit: o.lastCommit, ...disabled };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  const flagOf: Record<string, string> = { packagingUrl: '--packaging-url', upstreamUrl: '--upstream-url', upstreamBranch: '--upstream-branch', lastCommit: '--last-commit' };
  try {
    return [{ where: 'the command line', item: checkItem(raw, 'the command line') }];
  } catch (err) {
    // name the flags, not the YAML keys
    const e = asPatchlineError(err);
    throw new PatchlineError('EUSAGE', e.message.replace(/\b(packagingUrl|upstreamUrl|upstreamBranch|lastCommit)\b/g, (k) => flagOf[k]!).replace(/^(repo|branch|spec):/, '--$1:').replace(/; (repo|branch|spec):/g, '; --$1:'), { input: 'track add' });
  }
}

function exitOfScan(summary: ScanSummary): ExitCode {
  const failed = summary.items.filter((i) => i.outcome === 'failed').length;
  const acted = summary.items.filter((i) => i.outcome !== 'disabled' && i.outcome !== 'busy').length;
  if (failed === 0) return ExitCode.ok;
  return failed === acted ? ExitCode.failed : ExitCode.partial;
}

/** `patchline track add|list|show|remove|enable|disable|reviews|scan`. */
export function registerTrackCommands(program: Command, onExit: (code: ExitCode) => void): void {
  const track = program.command('track').description('upstream tracking: new upstream commits become patches on a packaging branch and a review series on the list');

  addWhereOptions(
    track
      .command('add')
      .description('add a tracking item (or replace the one with the same repo and branch): by flags, --file ITEM.yaml, or --dir DIR (every *.yaml)')
      .option('--repo <repo>', 'packaging repo name: the repo word of the review subjects, a repos: key of the config')
      .option('--branch <branch>', 'packaging branch')
      .option('--packaging-url <url>', 'git URL of the packaging repo (the dist-git with the spec)')
      .option('--spec <path>', 'path of the spec in the packaging repo')
      .option('--upstream-url <url>', 'git URL of the upstream repo')
      .option('--upstream-branch <branch>', 'upstream branch to track')
      .option('--last-commit <sha>', 'last upstream commit already processed (default: the upstream head at the first scan)')
      .option('--disabled', 'add it disabled (scans skip it until `track enable`)')
      .option('--file <file>', 'one item from a YAML file (the keys of resources/schemas/tracking-item.schema.json)')
      .option('--dir <dir>', 'every *.yaml file of a directory, one item each; nothing is added when one is bad'),
  ).action(
    commandAction<AddOptions>(onExit, async (o) => {
      const items = await itemsToAdd(o);
      const backend = await backendFor(o);
      for (const { item } of items) {
        const added = await backend.add(item);
        if (!o.quiet) print(`added ${added.repo} ${added.branch}${added.enabled ? '' : ' (disabled)'}`);
      }
    }),
  );

  addWhereOptions(
    track
      .command('list')
      .description('list the tracking items')
      .option('--repo <repo>', 'only this packaging repo')
      .option('--branch <branch>', 'only this packaging branch')
      .option('--json', 'a JSON array on stdout'),
  ).action(
    commandAction<WhereOptions & { repo?: string; branch?: string; json?: boolean }>(onExit, async (o) => {
      const items = await (await backendFor(o)).list({ ...(o.repo ? { repo: o.repo } : {}), ...(o.branch ? { branch: o.branch } : {}) });
      if (o.json) print(JSON.stringify(items, null, 2));
      else if (items.length === 0) print('no tracking items');
      else print(items.map(itemLine).join('\n'));
    }),
  );

  addWhereOptions(keyOptions(track.command('show').description('one tracking item and its reviews')).option('--json', 'JSON on stdout: { item, reviews }')).action(
    commandAction<WhereOptions & { repo: string; branch: string; json?: boolean }>(onExit, async (o) => {
      const backend = await backendFor(o);
      const [item] = await backend.list({ repo: o.repo, branch: o.branch });
      if (!item) throw new PatchlineError('ETRACK', `no tracking item for repo ${o.repo} branch ${o.branch} (see: patchline track list)`, { input: `${o.repo}/${o.branch}` });
      const reviews = (await backend.reviews()).filter((r) => r.repo === o.repo && r.branch === o.branch);
      print(o.json ? JSON.stringify({ item, reviews }, null, 2) : itemDetails(item, reviews));
    }),
  );

  addWhereOptions(keyOptions(track.command('remove').description('remove a tracking item (its reviews stay)'))).action(
    commandAction<WhereOptions & { repo: string; branch: string }>(onExit, async (o) => {
      await (await backendFor(o)).remove({ repo: o.repo, branch: o.branch });
      if (!o.quiet) print(`removed ${o.repo} ${o.branch}`);
    }),
  );

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    addWhereOptions(keyOptions(track.command(name).description(`${name} a tracking item (scans skip disabled items)`))).action(
      commandAction<WhereOptions & { repo: string; branch: string }>(onExit, async (o) => {
        const item = await (await backendFor(o)).setEnabled({ repo: o.repo, branch: o.branch }, enabled);
        if (!o.quiet) print(`${item.repo} ${item.branch} ${item.enabled ? 'enabled' : 'disabled'}`);
      }),
    );
  }

  addWhereOptions(track.command('reviews').description('the review records (one per upstream range)').option('--json', 'a JSON array on stdout')).action(
    commandAction<WhereOptions & { json?: boolean }>(onExit, async (o) => {
      const reviews = await (await backendFor(o)).reviews();
      if (o.json) print(JSON.stringify(reviews, null, 2));
      else print(reviews.length === 0 ? 'no reviews' : reviews.map((r) => `${r.id} ${r.state} ${r.trackingBranch}${r.failure ? ` ${r.failure.patch ?? ''}: ${r.failure.message}` : ''}`).join('\n'));
    }),
  );

  track.addCommand(scanCommand(onExit));
}

/** `patchline track scan` (also dist/steps/track-scan.js). */
export function scanCommand(onExit: (code: ExitCode) => void): Command {
  return new Command('scan')
    .description('scan every enabled item (or the one given) once: new upstream commits -> a tracking branch + a review series')
    .addOption(configOption())
    .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
    .option('--repo <repo>', 'only this item (with --branch)')
    .option('--branch <branch>', 'only this item (with --repo)')
    .option('--json', 'the summary as JSON on stdout')
    .addOption(new Option('-q, --quiet', 'only warnings and the failures').default(false))
    .action(commandAction<{ config: string; stateDir?: string; repo?: string; branch?: string; json?: boolean; quiet?: boolean }>(onExit, async (o) => runScan(o)));
}

/** Scan and print one line per item; the exit code. */
export async function runScan(o: { config: string; stateDir?: string; repo?: string; branch?: string; json?: boolean; quiet?: boolean }): Promise<ExitCode> {
  if ((o.repo === undefined) !== (o.branch === undefined)) throw new PatchlineError('EUSAGE', 'track scan: give --repo and --branch together (one item), or neither (every item)', { input: 'track scan' });
  const [{ loadConfig }, { createLogger }, { scanTracking }] = await Promise.all([import('../core/config.js'), import('../core/log.js'), import('./scan.js')]);
  const loaded = loadConfig(o.config, { stateDir: o.stateDir });
  const log = createLogger({ quiet: o.quiet });
  const summary = await scanTracking(loaded, { log, ...(o.repo && o.branch ? { item: { repo: o.repo, branch: o.branch } } : {}) });
  if (o.json) print(JSON.stringify(summary, null, 2));
  for (const i of summary.items) {
    const line = `${i.repo} ${i.branch}: ${i.outcome}${i.message ? `: ${i.message}` : ''}`;
    if (i.outcome === 'failed') process.stderr.write(redact(`patchline: ETRACK ${line}`) + '\n');
    else if (!o.json) log.info(line);
  }
  if (summary.items.length === 0) log.info('track scan: no tracking items');
  return exitOfScan(summary);
}

/** What a run reads and writes on this machine: the state dir, file mail sources, templates, spec files. */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import type { CheckProblem } from './problem.js';

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Why `dir` could not be written (or made, when it does not exist yet); undefined when it can. */
export function unwritableDir(dir: string): string | undefined {
  let probe = dir;
  while (!existsSync(probe)) {
    const parent = dirname(probe);
    if (parent === probe) return 'no part of the path exists';
    probe = parent;
  }
  if (!statSync(probe).isDirectory()) return probe === dir ? 'not a directory' : `${probe} is not a directory`;
  try {
    accessSync(probe, constants.W_OK | constants.X_OK);
  } catch (err) {
    return probe === dir ? `not writable (${errno(err)})` : `cannot be made: ${probe} is not writable (${errno(err)})`;
  }
  return undefined;
}

function unreadable(path: string, kind: 'file' | 'directory'): string | undefined {
  try {
    const st = statSync(path);
    if (kind === 'file' ? !st.isFile() : !st.isDirectory()) return `${path} is not a ${kind}`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return `cannot read ${path} (${errno(err)})`;
  }
}

export function stateDirProblems(loaded: LoadedConfig): CheckProblem[] {
  const why = unwritableDir(loaded.stateDir);
  return why ? [{ where: 'stateDir', message: `${loaded.stateDir}: ${why}` }] : [];
}

/** mbox files and Maildirs exist and can be read (IMAP sources: see connect.ts). */
export function fileSourceProblems(loaded: LoadedConfig): CheckProblem[] {
  return loaded.config.sources.flatMap((s, i): CheckProblem[] => {
    if (s.type === 'imap') return [];
    const path = resolveFrom(loaded.baseDir, s.path);
    const why = unreadable(path, s.type === 'mbox' ? 'file' : 'directory');
    if (why) return [{ where: `sources.${i}.path`, message: why }];
    if (s.type === 'maildir' && !existsSync(`${path}/new`) && !existsSync(`${path}/cur`)) return [{ where: `sources.${i}.path`, message: `${path} is not a Maildir (no new/ or cur/)` }];
    return [];
  });
}

export function templatesDirProblems(loaded: LoadedConfig): CheckProblem[] {
  const dir = loaded.config.report?.templatesDir;
  const why = dir === undefined ? undefined : unreadable(resolveFrom(loaded.baseDir, dir), 'directory');
  return why ? [{ where: 'report.templatesDir', message: why }] : [];
}

/** Specs in a packaging checkout beside the config (specFile); specs inside the repos: repos.ts. */
export function specFileProblems(loaded: LoadedConfig): CheckProblem[] {
  return Object.entries(loaded.config.repos).flatMap(([name, repo]): CheckProblem[] => {
    const file = repo.build?.specFile;
    const why = file === undefined ? undefined : unreadable(resolveFrom(loaded.baseDir, file), 'file');
    return why ? [{ where: `repos.${name}.build.specFile`, message: why }] : [];
  });
}

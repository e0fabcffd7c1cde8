import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PatchlineError, isErrno } from './errors.js';
import { writeFileAtomic } from './fsutil.js';
import { describeSchemaErrors, validatorFor } from './schemas.js';
import type { HarvestResult } from '../harvest/types.js';
import type { ApplyResult } from '../apply/types.js';
import type { BuildResult } from '../build/types.js';
import type { PublishResult } from '../publish/types.js';
import type { TestResult } from '../pkgtest/types.js';

/** The result file each step writes into the run dir, and its type. */
export interface ResultFiles {
  harvest: HarvestResult;
  apply: ApplyResult;
  build: BuildResult;
  test: TestResult;
  publish: PublishResult;
}
export type ResultName = keyof ResultFiles;

export function resultPath(runDir: string, name: ResultName): string {
  return join(runDir, `${name}.json`);
}

function check<N extends ResultName>(name: N, value: unknown, where: string): ResultFiles[N] {
  const validate = validatorFor(`${name}.schema.json`);
  if (!validate(value)) {
    const lines = describeSchemaErrors(validate.errors);
    throw new PatchlineError('ERESULT', `${name}.json does not match its schema: ${lines.slice(0, 5).join('; ')}`, { input: where, details: { errors: lines } });
  }
  return value as ResultFiles[N];
}

/** Validate against resources/schemas/<name>.schema.json and serialize: the text {@link writeResultText} writes. */
export function resultText<N extends ResultName>(name: N, value: ResultFiles[N], where = `${name}.json`): string {
  check(name, value, where);
  return JSON.stringify(value, null, 2) + '\n';
}

/** Write a result prepared by {@link resultText}, atomically. */
export function writeResultText(runDir: string, name: ResultName, text: string): string {
  const path = resultPath(runDir, name);
  writeFileAtomic(path, text);
  return path;
}

/** The lists of each result file that a later round of the same run adds to (`patchline run` applies a gated series again). */
const ROUND_LISTS: { [N in ResultName]?: ReadonlyArray<keyof ResultFiles[N]> } = {
  apply: ['branches', 'series'],
  build: ['builds'],
  test: ['tests'],
  publish: ['repos'],
};

/**
 * Validate against resources/schemas/<name>.schema.json, then write atomically. With `round` > 1
 * (a later round of apply..publish in the same run) the file keeps what the earlier rounds wrote:
 * their lists are prepended, so the run dir stays the record of everything the run did.
 */
export function writeResult<N extends ResultName>(runDir: string, name: N, value: ResultFiles[N], opts: { round?: number } = {}): string {
  let merged = value;
  const lists = ROUND_LISTS[name];
  if ((opts.round ?? 1) > 1 && lists) {
    const earlier = readResultIfExists(runDir, name);
    if (earlier) {
      const before = earlier as unknown as Record<string, unknown>;
      const now = { ...(value as unknown as Record<string, unknown>) };
      for (const key of lists as readonly string[]) now[key] = [...((before[key] as unknown[] | undefined) ?? []), ...((now[key] as unknown[] | undefined) ?? [])];
      if (typeof before.startedAt === 'string') now.startedAt = before.startedAt;
      merged = now as unknown as ResultFiles[N];
    }
  }
  return writeResultText(runDir, name, resultText(name, merged, resultPath(runDir, name)));
}

/** Read and validate; undefined when the file does not exist (an earlier step never ran). */
export function readResultIfExists<N extends ResultName>(runDir: string, name: N): ResultFiles[N] | undefined {
  const path = resultPath(runDir, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new PatchlineError('ERESULT', `cannot read ${name}.json: ${(err as Error).message}`, { input: path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PatchlineError('ERESULT', `${name}.json is not valid JSON: ${(err as Error).message}`, { input: path });
  }
  return check(name, value, path);
}

export function readResult<N extends ResultName>(runDir: string, name: N): ResultFiles[N] {
  const value = readResultIfExists(runDir, name);
  if (value === undefined) {
    throw new PatchlineError('ERESULT', `${name}.json is missing in the run dir: run the ${name} step first`, { input: resultPath(runDir, name) });
  }
  return value;
}

/** UTC timestamp run id, sortable and safe in file names: 20261121T020304Z. */
export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const LATEST = 'LATEST';

/**
 * The run dir a step works in: `--run-dir` when given; otherwise the first step of a run
 * (`fresh`) makes `<state>/runs/<run-id>`, and later steps continue the latest run.
 * `<state>/runs/LATEST` names it (a file, not a symlink: Jenkins libraries may hold none).
 */
export function resolveRunDir(opts: { runDir?: string; stateDir: string; fresh: boolean }): { runDir: string; runId: string } {
  const runsDir = join(resolve(opts.stateDir), 'runs');
  let runDir: string;
  if (opts.runDir) {
    runDir = resolve(opts.runDir);
    mkdirSync(runDir, { recursive: true });
  } else if (opts.fresh) {
    runDir = createRunDir(runsDir);
  } else {
    const latest = latestRunDir(opts.stateDir);
    if (!latest) throw new PatchlineError('EUSAGE', `no run dir given and no earlier run under ${runsDir}: pass --run-dir or run harvest first`, { input: runsDir });
    runDir = latest;
  }
  if (runDir.startsWith(runsDir + '/')) writeFileAtomic(join(runsDir, LATEST), runDir.slice(runsDir.length + 1) + '\n');
  return { runDir, runId: runDir.split('/').pop()! };
}

/** A new run dir named by the time, made with an exclusive mkdir: two runs started in the same second get two dirs. */
function createRunDir(runsDir: string): string {
  mkdirSync(runsDir, { recursive: true });
  const base = newRunId();
  for (let n = 0; ; n++) {
    const dir = join(runsDir, n === 0 ? base : `${base}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
}

export function latestRunDir(stateDir: string): string | undefined {
  const runsDir = join(resolve(stateDir), 'runs');
  try {
    const id = readFileSync(join(runsDir, LATEST), 'utf8').trim();
    if (id && existsSync(join(runsDir, id))) return join(runsDir, id);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const ids = existsSync(runsDir) ? readdirSync(runsDir).filter((n) => /^\d{8}T\d{6}Z/.test(n)).sort() : [];
  return ids.length ? join(runsDir, ids[ids.length - 1]!) : undefined;
}


import { dirname, join } from 'node:path';
import { appendJsonLines, appendLines, parseLine, readJsonLines, readLines } from '../core/jsonl.js';
import { fsyncDir, writeFileAtomic } from '../core/fsutil.js';
import type { ProjectState, UpstreamBuildRecord, UpstreamStore } from './types.js';

/**
 * The embedded build store in `<state>/upstream/` (docs/decisions/upstream-store.md):
 * - `builds.jsonl`: one line per put (the whole record); the last line of an id wins and keeps
 *   the place of the first (records are never removed: purge removes repos, not history).
 * - `projects.jsonl`: one line per ProjectState change, the last of a project winning;
 *   rewritten (temp file + rename) when it holds many more lines than projects.
 * Both are appended and fsynced before put returns; a torn last line is ignored (src/core/jsonl.ts).
 * Build lines are parsed lazily: a line is written as `{"id":..,"project":..,...}`, so loading
 * reads those two from the line's head and keeps the text; a record is parsed when first asked
 * for (newest(300) over 100,000 records parses 300). JSON.parse of every line was 0.8 s of 0.9 s.
 */
export const BUILDS_FILE = 'builds.jsonl';
export const PROJECTS_FILE = 'projects.jsonl';
const PROJECTS_SLACK = 500;
const WHAT = 'the upstream build store';

export function upstreamDir(stateDir: string): string {
  return join(stateDir, 'upstream');
}

class JsonlUpstreamStore implements UpstreamStore {
  private readonly buildsPath: string;
  private readonly projectsPath: string;
  /** Insertion order; a record put again replaces its slot. */
  private readonly rows: Row[] = [];
  private readonly slot = new Map<string, number>();
  private readonly byProject = new Map<string, number[]>();
  private readonly states = new Map<string, ProjectState>();
  private projectLines: number;

  constructor(dir: string) {
    this.buildsPath = join(dir, BUILDS_FILE);
    this.projectsPath = join(dir, PROJECTS_FILE);
    readLines(this.buildsPath, WHAT, (line, index) => this.remember(rowOf(line, index, this.buildsPath)));
    this.projectLines = readJsonLines<ProjectState>(this.projectsPath, 'the upstream project states', (s) => this.states.set(s.project, s));
  }

  private remember(row: Row): void {
    const at = this.slot.get(row.id);
    if (at !== undefined && this.rows[at]!.project === row.project) {
      this.rows[at] = row;
      return;
    }
    if (at !== undefined) this.byProject.set(this.rows[at]!.project, this.byProject.get(this.rows[at]!.project)!.filter((i) => i !== at));
    const i = at ?? this.rows.length;
    this.rows[i] = row;
    this.slot.set(row.id, i);
    let list = this.byProject.get(row.project);
    if (!list) this.byProject.set(row.project, (list = []));
    list.push(i);
    if (at !== undefined) list.sort((a, b) => a - b);
  }

  private record(i: number): UpstreamBuildRecord {
    const row = this.rows[i]!;
    row.record ??= parseLine<UpstreamBuildRecord>(row.line!, row.index, this.buildsPath, WHAT);
    row.line = undefined;
    return row.record;
  }

  put(record: UpstreamBuildRecord): void {
    // id and project first, so that loading finds them without parsing the line
    const line = JSON.stringify(Object.assign({ id: record.id, project: record.project }, record));
    appendLines(this.buildsPath, [line]);
    this.remember({ id: record.id, project: record.project, record, index: -1 });
  }

  get(id: string): UpstreamBuildRecord | undefined {
    const at = this.slot.get(id);
    return at === undefined ? undefined : this.record(at);
  }

  all(): UpstreamBuildRecord[] {
    return this.rows.map((_, i) => this.record(i));
  }

  newest(n: number): UpstreamBuildRecord[] {
    const out: UpstreamBuildRecord[] = [];
    for (let i = this.rows.length - 1; i >= 0 && out.length < n; i--) out.push(this.record(i));
    return out;
  }

  ofProject(project: string): UpstreamBuildRecord[] {
    return (this.byProject.get(project) ?? []).map((i) => this.record(i));
  }

  projectState(project: string): ProjectState | undefined {
    return this.states.get(project);
  }

  putProjectState(state: ProjectState): void {
    appendJsonLines(this.projectsPath, [state]);
    this.states.set(state.project, state);
    this.projectLines++;
    if (this.projectLines > this.states.size + PROJECTS_SLACK) {
      writeFileAtomic(this.projectsPath, [...this.states.values()].map((s) => JSON.stringify(s) + '\n').join(''));
      fsyncDir(dirname(this.projectsPath));
      this.projectLines = this.states.size;
    }
  }

  projects(): ProjectState[] {
    return [...this.states.values()];
  }

  close(): void {
    // every write is already durable; nothing is held open
  }
}

interface Row {
  id: string;
  project: string;
  /** The line as read, until parsed, and its index in the file (for errors). */
  line?: string;
  index: number;
  record?: UpstreamBuildRecord;
}

const ID_HEAD = '{"id":"';
const PROJECT_HEAD = '","project":"';

/** id and project from a line's head, the line kept unparsed; a line written otherwise (or escaped) is parsed whole. */
function rowOf(line: string, index: number, path: string): Row {
  if (line.startsWith(ID_HEAD)) {
    const idEnd = line.indexOf(PROJECT_HEAD, ID_HEAD.length);
    const projectStart = idEnd + PROJECT_HEAD.length;
    const projectEnd = idEnd < 0 ? -1 : line.indexOf('"', projectStart);
    if (projectEnd > 0 && line.lastIndexOf('\\', projectEnd) < 0) {
      return { id: line.slice(ID_HEAD.length, idEnd), project: line.slice(projectStart, projectEnd), line, index };
    }
  }
  const record = parseLine<UpstreamBuildRecord>(line, index, path, WHAT);
  return { id: record.id, project: record.project, record, index };
}

/** The embedded build store in <state>/upstream/ (see docs/decisions/upstream-store.md). */
export function openUpstreamStore(stateDir: string): UpstreamStore {
  return new JsonlUpstreamStore(upstreamDir(stateDir));
}

/** build.json (resources/schemas/build.schema.json). */

export type BuildState = 'built' | 'skipped' | 'failed' | 'canceled';

export interface BuildRecord {
  seriesId: string;
  repo: string;
  branch?: string;
  platform: string;
  builder: 'koji' | 'local';
  state: BuildState;
  /** The commit built (the series' last). */
  commit?: string;
  taskId?: number;
  /** Koji task page. */
  url?: string;
  nvr?: string;
  /** The SRPM made here, relative to the run dir. */
  srpm?: string;
  /** Paths relative to the run dir, or URLs. */
  rpms: string[];
  /** Paths relative to the run dir. */
  logs: string[];
  durationSeconds: number;
  message?: string;
  error?: { code: string; message: string; input?: string };
}

export interface BuildResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  builds: BuildRecord[];
}

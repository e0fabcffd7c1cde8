import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rpmDefines } from './spec.js';
import { wroteFiles } from './srpm.js';
import { rpmErrorMessage, runRpmTool } from './tool.js';

export interface LocalBuildOutcome {
  ok: boolean;
  /** The built binary RPMs (absolute paths). */
  rpms: string[];
  logs: string[];
  /** rpmbuild's or mock's own error lines when the build failed. */
  message?: string;
}

/** `rpmbuild --rebuild` into `topdir`, its whole output captured in `<topdir>/build.log`. */
export async function rebuildWithRpmbuild(srpm: string, topdir: string, opts: { defines?: Record<string, string>; arch?: string; signal?: AbortSignal } = {}): Promise<LocalBuildOutcome> {
  const log = join(topdir, 'build.log');
  const target = opts.arch ? ['--target', opts.arch] : [];
  const result = await runRpmTool('rpmbuild', ['--rebuild', ...target, ...rpmDefines({ _topdir: topdir, ...opts.defines }), srpm], { logFile: log, signal: opts.signal });
  const rpms = wroteFiles(result.stdout).filter((f) => f.endsWith('.rpm') && !f.endsWith('.src.rpm'));
  if (result.code !== 0) return { ok: false, rpms: [], logs: [log], message: rpmErrorMessage(result) };
  return { ok: true, rpms, logs: [log] };
}

/** `mock -r <root> --rebuild` into `resultDir` (mock writes build.log and root.log there). */
export async function rebuildWithMock(srpm: string, mockRoot: string, resultDir: string, signal?: AbortSignal): Promise<LocalBuildOutcome> {
  const log = join(resultDir, 'mock.log');
  const result = await runRpmTool('mock', ['-r', mockRoot, '--rebuild', srpm, '--resultdir', resultDir], { logFile: log, signal });
  const files = existsSync(resultDir) ? readdirSync(resultDir) : [];
  const logs = [log, ...['build.log', 'root.log'].filter((f) => files.includes(f)).map((f) => join(resultDir, f))];
  if (result.code !== 0) return { ok: false, rpms: [], logs, message: rpmErrorMessage(result) };
  return { ok: true, rpms: files.filter((f) => f.endsWith('.rpm') && !f.endsWith('.src.rpm')).map((f) => join(resultDir, f)), logs };
}

/** Whether mock is on PATH (the local builder falls back to rpmbuild without it). */
export function mockInstalled(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'mock')));
}

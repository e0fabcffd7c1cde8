import { existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inside, type SandboxMode } from '../sandbox/sandbox.js';
import { rpmSandbox, rpmTopdir } from './sandbox.js';
import { rpmDefines } from './spec.js';
import { wroteOutputs } from './srpm.js';
import { rpmErrorMessage, runRpmTool } from './tool.js';

export interface LocalBuildOutcome {
  ok: boolean;
  /** The built binary RPMs (absolute paths). */
  rpms: string[];
  logs: string[];
  /** rpmbuild's or mock's own error lines when the build failed. */
  message?: string;
}

export interface RebuildOptions {
  defines?: Record<string, string>;
  arch?: string;
  signal?: AbortSignal;
  sandbox?: SandboxMode;
}

/**
 * `rpmbuild --rebuild` in the sandbox, into the job dir's rpm topdir; its whole output captured
 * in `<jobDir>/build.log`, beside the topdir (where the build cannot replace it).
 */
export async function rebuildWithRpmbuild(srpm: string, jobDir: string, opts: RebuildOptions = {}): Promise<LocalBuildOutcome> {
  const log = join(jobDir, 'build.log');
  const topdir = rpmTopdir(jobDir);
  mkdirSync(topdir, { recursive: true });
  const { box, defines } = rpmSandbox(opts.sandbox ?? 'bwrap', { work: topdir, inputs: inside(topdir, srpm) === undefined ? [dirname(srpm)] : [] });
  const target = opts.arch ? ['--target', opts.arch] : [];
  const result = await runRpmTool('rpmbuild', ['--rebuild', ...target, ...rpmDefines({ ...defines, _topdir: box.path(topdir), ...opts.defines }), box.path(srpm)], { sandbox: box, logFile: log, signal: opts.signal });
  const rpms = wroteOutputs(result.stdout, box).filter((f) => f.endsWith('.rpm') && !f.endsWith('.src.rpm'));
  if (result.code !== 0) return { ok: false, rpms: [], logs: [log], message: rpmErrorMessage(result) };
  return { ok: true, rpms, logs: [log] };
}

/**
 * `mock -r <root> --rebuild` into `resultDir` (mock writes build.log and root.log there). mock
 * is its own sandbox (a chroot, its unprivileged mockbuild user); the build gets no network.
 */
export async function rebuildWithMock(srpm: string, mockRoot: string, resultDir: string, signal?: AbortSignal): Promise<LocalBuildOutcome> {
  const log = join(dirname(resultDir), 'mock.log');
  const result = await runRpmTool('mock', ['-r', mockRoot, '--config-opts=rpmbuild_networking=False', '--rebuild', srpm, '--resultdir', resultDir], { logFile: log, signal });
  const files = existsSync(resultDir) ? readdirSync(resultDir).filter((f) => lstatSync(join(resultDir, f)).isFile()) : [];
  const logs = [log, ...['build.log', 'root.log'].filter((f) => files.includes(f)).map((f) => join(resultDir, f))];
  if (result.code !== 0) return { ok: false, rpms: [], logs, message: rpmErrorMessage(result) };
  return { ok: true, rpms: files.filter((f) => f.endsWith('.rpm') && !f.endsWith('.src.rpm')).map((f) => join(resultDir, f)), logs };
}

/** Whether mock is on PATH (the local builder falls back to rpmbuild without it). */
export function mockInstalled(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'mock')));
}

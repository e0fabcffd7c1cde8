import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import type { Sandbox, SandboxMode } from '../sandbox/sandbox.js';
import { rpmSandbox, rpmTopdir } from './sandbox.js';
import { rpmDefines } from './spec.js';
import { rpmErrorMessage, runRpmTool } from './tool.js';

/** The paths rpmbuild reported writing ("Wrote: <path>"). */
export function wroteFiles(output: string): string[] {
  return [...output.matchAll(/^Wrote: (.+)$/gm)].map((m) => m[1]!.trim());
}

/** The files rpmbuild said it wrote, on the host: only regular files in the sandbox's work dir. */
export function wroteOutputs(output: string, box: Sandbox): string[] {
  return wroteFiles(output).flatMap((f) => box.outputFile(f) ?? []);
}

/**
 * `rpmbuild -bs` of a spec whose sources are in `sourceDir`, into the job dir's rpm topdir (in the
 * sandbox: the spec's dir and `sourceDir` read-only); returns the SRPM path.
 */
export async function buildSrpm(specFile: string, sourceDir: string, jobDir: string, defines: Record<string, string> = {}, sandbox: SandboxMode = 'bwrap'): Promise<string> {
  const topdir = rpmTopdir(jobDir);
  mkdirSync(topdir, { recursive: true });
  const inputs = [...new Set([dirname(specFile), sourceDir])];
  const { box, defines: own } = rpmSandbox(sandbox, { work: topdir, inputs });
  const args = ['-bs', ...rpmDefines({ ...own, _topdir: box.path(topdir), _sourcedir: box.path(sourceDir), ...defines }), box.path(specFile)];
  const result = await runRpmTool('rpmbuild', args, { sandbox: box });
  const srpm = wroteOutputs(result.stdout, box).find((f) => f.endsWith('.src.rpm'));
  if (result.code !== 0 || !srpm) throw new PatchlineError('ESPEC', `rpmbuild -bs failed: ${rpmErrorMessage(result)}`, { input: specFile });
  return srpm;
}

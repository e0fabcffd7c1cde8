import { PatchlineError } from '../core/errors.js';
import { rpmDefines } from './spec.js';
import { rpmErrorMessage, runRpmTool } from './tool.js';

/** The paths rpmbuild reported writing ("Wrote: <path>"). */
export function wroteFiles(output: string): string[] {
  return [...output.matchAll(/^Wrote: (.+)$/gm)].map((m) => m[1]!.trim());
}

/** `rpmbuild -bs` of a spec whose sources are in `sourceDir`, into `topdir`; returns the SRPM path. */
export async function buildSrpm(specFile: string, sourceDir: string, topdir: string, defines: Record<string, string> = {}): Promise<string> {
  const args = ['-bs', ...rpmDefines({ _topdir: topdir, _sourcedir: sourceDir, ...defines }), specFile];
  const result = await runRpmTool('rpmbuild', args);
  const srpm = wroteFiles(result.stdout).find((f) => f.endsWith('.src.rpm'));
  if (result.code !== 0 || !srpm) throw new PatchlineError('ESPEC', `rpmbuild -bs failed: ${rpmErrorMessage(result)}`, { input: specFile });
  return srpm;
}

import { basename, join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { buildArchRpms, listBuildRpms, taskOutputSizes, type KojiBuild } from '../koji/api.js';
import { buildRpmUrl, downloadTaskFile, downloadUrl, rpmFileName, workFileUrl } from '../koji/files.js';
import type { KojiSession } from '../koji/session.js';

/**
 * A Koji build's binary RPMs become files of the run dir (`dir`), so that publish and the test
 * step read them as they read a local build's. Source RPMs stay out, as in yum repos.
 */

const isBinary = (file: string) => file.endsWith('.rpm') && !file.endsWith('.src.rpm');

/**
 * The RPMs of finished buildArch tasks, by the paths their results give (a scratch build's RPMs
 * are moved to scratch/<user>/task_<id>/ and the task dir keeps links to them): from
 * `<topurl>/work/<path>` when the profile has a topurl, else through the hub (downloadTaskOutput).
 * Each is checked against the size listTaskOutput gives.
 */
export async function fetchTaskRpms(session: KojiSession, buildArchTasks: number[], dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const taskId of buildArchTasks) {
    const paths = (await buildArchRpms(session, taskId)).filter(isBinary);
    if (paths.length === 0) continue;
    const sizes = await taskOutputSizes(session, taskId);
    for (const path of paths) {
      const name = basename(path);
      const size = sizes.get(name);
      if (size === undefined) throw new PatchlineError('EKOJI', `Koji task ${taskId} names ${path} in its result, but its output holds no ${name}`, { input: String(taskId) });
      const dest = join(dir, name);
      const topurl = session.profile.topurl;
      if (topurl) await downloadUrl(workFileUrl(topurl, path), dest, { expected: size, ca: session.serverCa });
      else await downloadTaskFile(session, taskId, name, dest, size);
      out.push(dest);
    }
  }
  return out;
}

/**
 * The RPMs of a Koji build (listBuildRPMs), from `<topurl>/packages/...`. Without a topurl there
 * is no way that holds for any build: an old build's task output may be gone, and a build may have
 * no task at all (imported).
 */
export async function fetchBuildRpms(session: KojiSession, build: KojiBuild, dir: string): Promise<string[]> {
  const topurl = session.profile.topurl;
  if (!topurl) {
    throw new PatchlineError('EKOJI', `profile [${session.profile.name}] has no topurl to download the RPMs of Koji build ${build.nvr} (${build.id}) from: add topurl (where Koji serves its packages/ dir) to the profile`, {
      input: session.profile.file,
    });
  }
  const out: string[] = [];
  for (const rpm of (await listBuildRpms(session, build.id)).filter((r) => r.arch !== 'src')) {
    const dest = join(dir, rpmFileName(rpm));
    await downloadUrl(buildRpmUrl(topurl, build, rpm), dest, { expected: rpm.size, ca: session.serverCa });
    out.push(dest);
  }
  if (out.length === 0) throw new PatchlineError('EKOJI', `Koji build ${build.nvr} (${build.id}) lists no binary RPM`, { input: build.nvr });
  return out;
}

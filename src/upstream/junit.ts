import { junitDocument, junitPart, type JunitCase } from '../report/junit.js';
import type { UpstreamSettings } from './settings.js';
import type { UpstreamStore } from './types.js';

/**
 * junit.xml of an upstream run (the report's writer): one case per project and platform, named
 * the same in every run (classname `upstream.<project>`, name `<platform>`) so Jenkins tracks each
 * across builds; it fails while that project's latest build on that platform failed (RETRY is not
 * a failure).
 */
export function upstreamJunit(store: UpstreamStore, s: UpstreamSettings, runId: string): string {
  const cases: JunitCase[] = [];
  for (const project of s.projects) {
    const classname = `upstream.${junitPart(project.name)}`;
    const records = store.ofProject(project.name).filter((r) => !r.bisect);
    for (const platform of project.platforms) {
      const name = junitPart(platform.name);
      const latest = records.filter((r) => r.platform === platform.name).pop();
      if (!project.enabled || !latest) {
        cases.push({ classname, name, skipped: project.enabled ? 'not built yet' : 'disabled' });
      } else if (latest.status === 'FAILED') {
        const why = `${latest.commit.sha.slice(0, 12)} ${latest.failure?.step ?? ''}: ${latest.failure?.message ?? 'failed'}${latest.firstBadCommit ? `\nfirst bad ${latest.firstBadCommit.packaging ? 'packaging (dist-git) ' : ''}commit ${latest.firstBadCommit.sha} ${latest.firstBadCommit.subject}` : ''}`;
        cases.push({ classname, name, failure: why });
      } else {
        cases.push({ classname, name, out: `${latest.status} ${latest.commit.sha.slice(0, 12)} ${latest.nvr ?? ''}` });
      }
    }
  }
  return junitDocument(`patchline upstream ${runId}`, [{ name: 'upstream', cases }]);
}

import { runOutcomes } from './outcome.js';
import type { RunFiles } from './run-files.js';
import { harvestView } from './view.js';

const escapeXml = (s: string): string =>
  s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

interface Case {
  classname: string;
  name: string;
  failure?: string;
  skipped?: string;
}

function caseXml(c: Case): string {
  const open = `    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}"`;
  if (c.failure !== undefined) return `${open}>\n      <failure message="${escapeXml(c.failure.split('\n')[0]!)}">${escapeXml(c.failure)}</failure>\n    </testcase>`;
  if (c.skipped !== undefined) return `${open}>\n      <skipped message="${escapeXml(c.skipped)}"/>\n    </testcase>`;
  return `${open}/>`;
}

/** Harvest-level problems: each mail set aside and each unreadable source is a failed case. */
function harvestCases(files: RunFiles): Case[] {
  const v = harvestView(files);
  if (v.notRun) return [{ classname: 'patchline.harvest', name: 'harvest', failure: v.notRun }];
  return [
    ...v.sourceErrors.map((s) => ({ classname: 'patchline.harvest.source', name: s.name, failure: s.message })),
    ...v.problems.map((p) => ({ classname: `patchline.harvest.${p.bucket}`, name: `${p.subject} <${p.messageId}>`, failure: p.reason ?? p.bucket })),
  ];
}

/** junit.xml: one test case per series x stage (build and publish per platform), so Jenkins' test trend shows what broke. */
export function junitXml(files: RunFiles): string {
  const suites: Array<{ name: string; cases: Case[] }> = [{ name: 'harvest', cases: harvestCases(files) }];
  for (const o of runOutcomes(files)) {
    const classname = `${o.series.repo}.${o.series.branch}.${o.series.id}`.replace(/\//g, '_');
    suites.push({
      name: `${o.series.repo}/${o.series.branch}: ${o.series.id}`,
      cases: o.stages.map((s) => ({
        classname,
        name: s.platform ? `${s.stage} ${s.platform}` : s.stage,
        ...(s.status === 'failed' ? { failure: s.message ?? 'failed' } : s.status === 'skipped' ? { skipped: s.message ?? 'skipped' } : {}),
      })),
    });
  }
  const count = (cases: Case[], k: 'failure' | 'skipped') => cases.filter((c) => c[k] !== undefined).length;
  const all = suites.flatMap((s) => s.cases);
  const body = suites
    .map((s) => `  <testsuite name="${escapeXml(s.name)}" tests="${s.cases.length}" failures="${count(s.cases, 'failure')}" skipped="${count(s.cases, 'skipped')}" errors="0">\n${s.cases.map(caseXml).join('\n')}${s.cases.length ? '\n' : ''}  </testsuite>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="patchline run ${escapeXml(files.runId)}" tests="${all.length}" failures="${count(all, 'failure')}" skipped="${count(all, 'skipped')}" errors="0">\n${body}\n</testsuites>\n`;
}

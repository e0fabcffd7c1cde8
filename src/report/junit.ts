import { runOutcomes, type StageResult, type StageStatus } from './outcome.js';
import type { RunFiles } from './run-files.js';
import { harvestView } from './view.js';

const escapeXml = (s: string): string =>
  s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/**
 * One test case. Its classname and name are the same in every run for the same repo, branch,
 * stage and platform (Jenkins tracks a test's age and history by them); what changes from run to
 * run (series, mails, messages) goes into the failure, skipped message or system-out.
 */
export interface JunitCase {
  classname: string;
  name: string;
  failure?: string;
  skipped?: string;
  out?: string;
}

function caseXml(c: JunitCase): string {
  const open = `    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}"`;
  const out = c.out ? `\n      <system-out>${escapeXml(c.out)}</system-out>` : '';
  if (c.failure !== undefined) return `${open}>\n      <failure message="${escapeXml(c.failure.split('\n')[0]!)}">${escapeXml(c.failure)}</failure>${out}\n    </testcase>`;
  if (c.skipped !== undefined) return `${open}>\n      <skipped message="${escapeXml(c.skipped.split('\n')[0]!)}"/>${out}\n    </testcase>`;
  return out ? `${open}>${out}\n    </testcase>` : `${open}/>`;
}

/** Jenkins splits a classname at its last dot (package.class): dots inside a name would split it again. */
export const junitPart = (s: string): string => s.replace(/[./]/g, '_');
const part = junitPart;

/** A junit.xml document: its suites, each with its cases, and the counts Jenkins reads. */
export function junitDocument(name: string, suites: ReadonlyArray<{ name: string; cases: JunitCase[] }>): string {
  const count = (cases: JunitCase[], k: 'failure' | 'skipped') => cases.filter((c) => c[k] !== undefined).length;
  const flat = suites.flatMap((s) => s.cases);
  const body = suites
    .map((s) => `  <testsuite name="${escapeXml(s.name)}" tests="${s.cases.length}" failures="${count(s.cases, 'failure')}" skipped="${count(s.cases, 'skipped')}" errors="0">\n${s.cases.map(caseXml).join('\n')}${s.cases.length ? '\n' : ''}  </testsuite>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${escapeXml(name)}" tests="${flat.length}" failures="${count(flat, 'failure')}" skipped="${count(flat, 'skipped')}" errors="0">\n${body}\n</testsuites>\n`;
}

const HARVEST = 'patchline.harvest';
const PROBLEM_BUCKETS = ['quarantined', 'unroutable'] as const;

/** Harvest: a case per source (read or not), a case per problem bucket (failed while it holds mails). */
function harvestCases(files: RunFiles): JunitCase[] {
  const v = harvestView(files);
  if (v.notRun) return [{ classname: HARVEST, name: 'harvest', failure: v.notRun }];
  const sources = (files.harvest?.sources ?? []).map((s): JunitCase => ({ classname: HARVEST, name: `source ${s.name}`, ...(s.error ? { failure: s.error.message } : {}) }));
  const buckets = PROBLEM_BUCKETS.map((bucket): JunitCase => {
    const mails = v.problems.filter((p) => p.bucket === bucket);
    if (mails.length === 0) return { classname: HARVEST, name: bucket };
    const lines = mails.map((p) => `${p.subject} <${p.messageId}>: ${p.reason ?? bucket}`);
    return { classname: HARVEST, name: bucket, failure: `${mails.length} mail${mails.length === 1 ? '' : 's'} ${bucket}\n${lines.join('\n')}` };
  });
  return [...sources, ...buckets];
}

interface Entry {
  seriesId: string;
  result: StageResult;
}

/** One case for every series that went through a stage (and platform) of a branch in this run: failed if one failed, passed if one passed, else skipped. */
function stageCase(classname: string, name: string, entries: Entry[]): JunitCase {
  const line = (e: Entry) => `${e.seriesId}: ${e.result.status}${e.result.message ? `: ${e.result.message}` : ''}`;
  const of = (status: StageStatus) => entries.filter((e) => e.result.status === status);
  const failed = of('failed');
  const all = entries.map(line).join('\n');
  if (failed.length > 0) {
    const first = `${failed[0]!.seriesId}: ${failed[0]!.result.message ?? 'failed'}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`;
    return { classname, name, failure: `${first}\n${all}` };
  }
  if (of('passed').length > 0) return { classname, name, out: all };
  return { classname, name, skipped: `${entries[0]!.seriesId}: ${entries[0]!.result.message ?? 'skipped'}${entries.length > 1 ? `\n${all}` : ''}` };
}

/** junit.xml: a suite per repo/branch, a case per stage (build and publish per platform), so Jenkins' test trend shows what broke and since when. */
export function junitXml(files: RunFiles): string {
  const suites = new Map<string, { classname: string; cases: Map<string, Entry[]> }>();
  for (const o of runOutcomes(files)) {
    const suite = `${o.series.repo}/${o.series.branch}`;
    if (!suites.has(suite)) suites.set(suite, { classname: `${part(o.series.repo)}.${part(o.series.branch)}`, cases: new Map() });
    const cases = suites.get(suite)!.cases;
    for (const s of o.stages) {
      const name = s.platform ? `${s.stage} ${s.platform}` : s.stage;
      cases.set(name, [...(cases.get(name) ?? []), { seriesId: o.series.id, result: s }]);
    }
  }
  const all = [
    { name: 'harvest', cases: harvestCases(files) },
    ...[...suites].map(([name, s]) => ({ name, cases: [...s.cases].map(([caseName, entries]) => stageCase(s.classname, caseName, entries)) })),
  ];
  return junitDocument(`patchline run ${files.runId}`, all);
}

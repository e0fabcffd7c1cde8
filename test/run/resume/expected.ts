/**
 * The end state the workload must lead to, worked out from what each series is made to do
 * (its fate), not from a run: the reference run is checked against it, and the outage and
 * concurrency tests compare with it.
 */
import type { EndState, MailCount } from './end-state.js';
import { BRANCHES, PLATFORMS } from './project.js';
import { messageId, type SeriesSpec } from './workload.js';

const RECIPIENTS = ['hello-devel@lists.example.org', 'maintainers@example.org'];
const SEED_COMMIT = 'hello 1.0 | -';

/** What a series' report mail says (resources/templates/*.subject.hbs). */
const OUTCOME: Record<Exclude<SeriesSpec['fate'], 'superseded'>, string> = {
  applied: 'applied, built and published',
  conflict: 'does not apply',
  'build-fails': `build failed on ${PLATFORMS.join(', ')}`,
};

const title = (s: SeriesSpec): string => s.cover ?? s.patches[0]!.subject;

export function expectedState(series: SeriesSpec[]): EndState {
  const branches: Record<string, string[]> = {};
  for (const b of BRANCHES) {
    branches[b] = [SEED_COMMIT];
    // the gate (apply.gate, default build or test): a series whose build fails never reaches its branch
    for (const s of series.filter((x) => x.branch === b && x.fate === 'applied')) {
      branches[b].push(...s.patches.map((p, i) => `${p.subject} | <${messageId(s, i + 1)}>`));
    }
  }
  // ... and stays on its staging ref
  for (const s of series.filter((x) => x.fate === 'build-fails')) {
    branches[`patchline/staging/${s.patches.at(-1)!.subject}`] = s.patches.map((p, i) => `${p.subject} | <${messageId(s, i + 1)}>`);
  }
  const repos: Record<string, string[]> = {};
  // one yum repo per platform and branch (publish.layout's default {platform}/{repo}-{branch})
  for (const [i, platform] of PLATFORMS.entries()) {
    const dist = i === 1 ? '.elb' : '';
    for (const b of BRANCHES) {
      const rpms = series
        .filter((s) => s.fate === 'applied' && s.branch === b)
        .map((s) => `hello-1.0-0.<date>.git[${s.patches.at(-1)!.subject}]${dist}.noarch.rpm`)
        .sort();
      if (rpms.length > 0) repos[`${platform}/hello-${b}`] = rpms;
    }
  }
  const mails: MailCount[] = series
    .filter((s) => s.fate !== 'superseded')
    // a failure mail also goes to the series' author (report.copyAuthor, default true)
    .map((s) => ({ subject: `[patchline] hello/${s.branch}: ${OUTCOME[s.fate as keyof typeof OUTCOME]}: ${title(s)}`, to: (s.fate === 'applied' ? [...RECIPIENTS] : [...RECIPIENTS, s.author.email]).sort(), count: 1 }))
    .sort((a, b) => a.subject.localeCompare(b.subject));
  return { branches, repos, mails, problems: [] };
}

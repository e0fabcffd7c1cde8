import type { Config, Person } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';
import { fillPlaceholders, pushPatternProblem, type PushVars } from '../core/config-checks.js';

export { isSafeRefWord } from '../core/config-checks.js';

/** The apply settings of one repo: the stage section with the repo's overrides. */
export interface ApplySettings {
  committer: Person;
  threeWay: boolean;
  pushPattern?: string;
  linkUrl?: string;
  push: boolean;
  searchDepth: number;
  order: 'arrival' | 'harvest';
}

const DEFAULT_COMMITTER: Person = { name: 'patchline', email: 'patchline@localhost' };

export function applySettings(config: Config, repo: string): ApplySettings {
  const stage = config.apply ?? {};
  const own = config.repos[repo]?.apply ?? {};
  return {
    committer: stage.committer ?? DEFAULT_COMMITTER,
    threeWay: own.threeWay ?? stage.threeWay ?? true,
    pushPattern: own.pushPattern ?? stage.pushPattern,
    linkUrl: own.linkUrl ?? stage.linkUrl,
    push: stage.push ?? true,
    searchDepth: stage.searchDepth ?? 10000,
    order: own.order ?? 'arrival',
  };
}

/**
 * The branch pushed to: the configured branch, or the staging name from pushPattern. The config
 * check tried the pattern with a sample run id; the real one (a --run-dir's name) is checked here.
 */
export function pushTarget(settings: ApplySettings, vars: PushVars): string {
  if (!settings.pushPattern) return vars.branch;
  const problem = pushPatternProblem(settings.pushPattern, vars);
  if (problem) throw new PatchlineError('ECONFIG', `apply.pushPattern: ${problem}`, { input: settings.pushPattern });
  return fillPlaceholders(settings.pushPattern, vars);
}

/** The `Link:` URL of a message. */
export function linkFor(pattern: string, messageId: string): string {
  return pattern.split('{messageId}').join(encodeURIComponent(messageId).replace(/%40/g, '@'));
}

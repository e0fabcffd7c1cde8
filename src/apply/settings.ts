import type { Config, Person } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';

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

/** The branch pushed to: the configured branch, or the staging name from pushPattern. */
export function pushTarget(settings: ApplySettings, vars: { repo: string; branch: string; date: string; runId: string }): string {
  if (!settings.pushPattern) return vars.branch;
  const name = settings.pushPattern.replace(/\{(repo|branch|date|runId)\}/g, (_, key: keyof typeof vars) => vars[key]);
  if (!isSafeRefWord(name) || /[{}]/.test(name)) {
    throw new PatchlineError('ECONFIG', `apply.pushPattern: "${settings.pushPattern}" gives "${name}", not a usable branch name (placeholders: {repo} {branch} {date} {runId})`, { input: settings.pushPattern });
  }
  return name;
}

/** A repo or branch word as config.schema.json allows it, and nothing git could read as an option or a range. */
export function isSafeRefWord(word: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(word) && word.length <= 100 && !word.includes('..') && !word.endsWith('.lock') && !word.endsWith('/') && !word.includes('//');
}

/** The `Link:` URL of a message. */
export function linkFor(pattern: string, messageId: string): string {
  return pattern.split('{messageId}').join(encodeURIComponent(messageId).replace(/%40/g, '@'));
}

/**
 * Where each repo/branch's packages are published: `publish.layout` (default
 * `{platform}/{repo}-{branch}`) names one yum repo per platform and branch, relative to the
 * destination. Keys are checked when the config loads (config-checks.ts checkPublish), so the
 * code that builds paths from them never sees `..`, an absolute path or two platforms in one repo.
 */

export const DEFAULT_LAYOUT = '{platform}/{repo}-{branch}';
export const DEFAULT_REPO_NAME = 'patchline-{platform}-{repo}-{branch}';
export const LAYOUT_PLACEHOLDERS = ['platform', 'repo', 'branch'] as const;

/** What one published repo holds: the packages of one platform for one repo/branch (or more, when the layout leaves a word out). */
export interface PublishTarget {
  platform: string;
  repo: string;
  branch: string;
}

function fill(pattern: string, t: PublishTarget): string {
  return pattern.replace(/\{(platform|repo|branch)\}/g, (_, name: keyof PublishTarget) => t[name]);
}

/** The repo's path under the destination, e.g. `el9/qemu-stable-2.1`. */
export function layoutKey(layout: string, t: PublishTarget): string {
  return fill(layout, t);
}

/** The repo id of its .repo file: no `/` (dnf takes letters, digits and `-_.:`). */
export function repoId(pattern: string, t: PublishTarget): string {
  return fill(pattern, t).replace(/\//g, '-');
}

/** A key the publish code can take as a path: relative, no empty, `.` or `..` part. */
export function isSafeKey(key: string): boolean {
  return key !== '' && !key.startsWith('/') && key.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * Two keys clash when one is a directory the other lives in (`el9` and `el9/qemu-master`): a
 * repo's live symlink would sit where another repo's parent dir must be.
 */
export function keysClash(a: string, b: string): boolean {
  return a !== b && (a.startsWith(`${b}/`) || b.startsWith(`${a}/`));
}

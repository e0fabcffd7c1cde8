import { gitMessage, type Git } from '../git/git.js';

export type PushOutcome = { ok: true } | { ok: false; rejected: boolean; message: string };

/** Push HEAD to `refs/heads/<target>` (never forced); `rejected` when the remote moved under us. */
export function pushHead(git: Git, target: string): Promise<PushOutcome> {
  return pushRefs(git, [`HEAD:refs/heads/${target}`]);
}

/** The staging ref of a gated series on the remote, until its gate passes. */
export function stagingRef(seriesId: string): string {
  return `patchline/staging/${seriesId}`;
}

/** Push refspecs to origin in one push (atomic where the remote can); `rejected` when a ref moved under us. */
export async function pushRefs(git: Git, refspecs: readonly string[]): Promise<PushOutcome> {
  const r = await git.run(['push', '--porcelain', '--atomic', 'origin', ...refspecs], { allowFailure: true });
  if (r.code === 0) return { ok: true };
  const text = `${r.stdout}\n${r.stderr}`;
  // Not a fast-forward any more, or the remote ref changed between our check and its update.
  const rejected = /\[rejected\]|\((?:fetch first|non-fast-forward|stale info|failed to update ref)\)|cannot lock ref .* but expected/.test(text);
  // The porcelain status of the ref ("!<tab>ref<tab>[remote rejected] (why)") and what the remote said say more than git's summary.
  const status = text.split('\n').filter((l) => l.startsWith('!\t') || /^remote: \S/.test(l)).map((l) => l.replace(/\t/g, ' ').replace(/\s+$/, ''));
  return { ok: false, rejected, message: [...status, gitMessage(r)].filter(Boolean).join('; ') };
}

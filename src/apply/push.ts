import { gitMessage, type Git } from '../git/git.js';

export type PushOutcome = { ok: true } | { ok: false; rejected: boolean; message: string };

/** Push HEAD to `refs/heads/<target>` (never forced); `rejected` when the remote moved under us. */
export async function pushHead(git: Git, target: string): Promise<PushOutcome> {
  const r = await git.run(['push', '--porcelain', 'origin', `HEAD:refs/heads/${target}`], { allowFailure: true });
  if (r.code === 0) return { ok: true };
  const text = `${r.stdout}\n${r.stderr}`;
  const rejected = /^!\t.*\[rejected\]|\(fetch first\)|\(non-fast-forward\)|\(stale info\)/m.test(text);
  return { ok: false, rejected, message: gitMessage(r) || text.trim().split('\n').slice(-2).join('; ') };
}

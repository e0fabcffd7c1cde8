/**
 * Crash testing: PATCHLINE_UPSTREAM_KILL_AT=<n> kills the process with SIGKILL at the n-th named
 * point it passes (after a build, a repo, a record, a link switch, a stored mail), so the kill
 * harness (test/upstream/kill.test.ts) can stop a run between any two durable steps.
 */
let passed = 0;

export function killPoint(_name: string): void {
  const at = process.env.PATCHLINE_UPSTREAM_KILL_AT;
  if (at === undefined) return;
  passed++;
  if (passed === Number(at)) process.kill(process.pid, 'SIGKILL');
}

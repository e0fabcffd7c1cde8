/**
 * Crash testing: PATCHLINE_TRACK_KILL_AT=<name> kills the scan with SIGKILL when it passes the
 * named point (between two durable steps of a review: preparing, stored, pushed, recorded,
 * sent, mailed), so test/tracking/kill.test.ts can stop a scan at each of them.
 */
export type TrackKillPoint = 'preparing' | 'stored' | 'pushed' | 'recorded' | 'sent' | 'mailed';

export function killPoint(name: TrackKillPoint): void {
  if (process.env.PATCHLINE_TRACK_KILL_AT === name) process.kill(process.pid, 'SIGKILL');
}

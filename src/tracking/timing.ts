/**
 * Time spent waiting for child processes during scans (git, rpm tools), per kind, so the
 * benchmark (bench/track.ts) can tell patchline's own cost from the tools'.
 */
/** git and rpm are child processes; mail is the SMTP delivery with its outbox writes (reported apart, not a child). */
export type ChildKind = 'git' | 'rpm' | 'mail';

const spent: Record<ChildKind, number> = { git: 0, rpm: 0, mail: 0 };

/** Run `fn` (one child process, or a few in a row) and add its wall time to `kind`. */
export async function timed<T>(kind: ChildKind, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    spent[kind] += performance.now() - start;
  }
}

/** Milliseconds spent in children since the process started (or the last reset). */
export function childTimes(): Record<ChildKind, number> {
  return { ...spent };
}

export function resetChildTimes(): void {
  spent.git = 0;
  spent.rpm = 0;
  spent.mail = 0;
}

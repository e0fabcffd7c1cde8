import { createHash } from 'node:crypto';

/** The lines of a build log that say why it failed (rpmbuild's own markers, shell errors). */
const ERROR_LINE = /^(error|fatal|Bad exit status|.*: (command not found|No such file or directory)|.*\b([Ee]rror|ERROR|FAILED|[Ff]ailed)\b)/;

/** The error lines, normalized: no paths of this build, no numbers that change from run to run. */
export function errorLines(log: string): string[] {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LINE.test(l));
  return lines.map((l) =>
    l
      .replace(/\/[^\s:'"]*\/(BUILD|BUILDROOT|SOURCES|SPECS|SRPMS|RPMS|tmp)\/[^\s:'"]*/g, '<path>')
      .replace(/\/tmp\/[^\s:'"]*/g, '<tmp>')
      .replace(/\b[0-9a-f]{7,40}\b/g, '<sha>')
      .replace(/\d+/g, 'N'),
  );
}

/**
 * A short stable hash of the normalized error lines: the same failure gives the same signature
 * from commit to commit. A set, sorted: rpmbuild's stdout and stderr interleave differently each time.
 */
export function failureSignature(step: string, log: string): string {
  const lines = [...new Set(errorLines(log))].sort();
  return createHash('sha256').update(step).update('\0').update(lines.join('\n')).digest('hex').slice(0, 12);
}

/** Whether the log of a failed build says the failure was transient (a retry pattern matched). */
export function isTransient(log: string, patterns: readonly RegExp[]): RegExp | undefined {
  return patterns.find((p) => p.test(log));
}

/** The last `n` lines of a log. */
export function logTail(log: string, n = 50): string {
  const lines = log.replace(/\n$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

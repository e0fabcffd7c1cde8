import { execFileSync, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vars/ and the Jenkinsfile under Debian's groovy (2.4, the version Jenkins bundles), all cases in
 * one JVM (test/groovy/run-tests.groovy); each case is reported here as its own test.
 */
function javaHome(): string {
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  const java = execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim();
  return dirname(dirname(realpathSync(java)));
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = spawnSync('groovy', ['-cp', resolve(root, 'test/groovy'), resolve(root, 'test/groovy/run-tests.groovy'), root], {
  encoding: 'utf8',
  env: { ...process.env, JAVA_HOME: javaHome() },
  maxBuffer: 16 * 1024 * 1024,
});
const cases = run.stdout
  .split('\n')
  .filter((l) => /^(PASS|FAIL)\t/.test(l))
  .map((l) => {
    const [verdict, name, why] = l.split('\t');
    return { verdict: verdict!, name: name!, why: (why ?? '').replace(/\\n/g, '\n') };
  });

describe('Jenkins library (groovy)', () => {
  test('the groovy runner ran and reported its cases', () => {
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(run.status).toBe(cases.some((c) => c.verdict === 'FAIL') ? 1 : 0);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.verdict === 'FAIL') throw new Error(c.why);
  });
});

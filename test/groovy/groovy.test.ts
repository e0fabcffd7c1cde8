import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stepCommand } from '../../src/core/step.js';
import { STEP_NAMES } from '../../src/steps.js';
import type { Command } from 'commander';
import { upstreamRunCommand } from '../../src/upstream/command.js';
import { scanCommand } from '../../src/tracking/command.js';

/**
 * vars/ and the Jenkinsfile under Debian's groovy (2.4, the version Jenkins bundles), all cases in
 * one JVM (test/groovy/run-tests.groovy); each case is reported here as its own test. The fake
 * patchline the vars run takes exactly the options the real subcommands take, read here from the
 * real CLI's definitions: an option a var passes that patchline does not know fails the case.
 */
function javaHome(): string {
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  const java = execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim();
  return dirname(dirname(realpathSync(java)));
}

/** "<step> <--option> <1 if it takes a value>" for every option of every step subcommand, `upstream run` and `track scan`. */
function optionLines(): string {
  const lines = (name: string, cmd: Command) => cmd.options.map((o) => `${name} ${o.long} ${o.required || o.optional ? 1 : 0}`);
  return [...STEP_NAMES.flatMap((name) => lines(name, stepCommand(name, () => undefined))), ...lines('upstream-run', upstreamRunCommand('run', () => undefined)), ...lines('track-scan', scanCommand(() => undefined))].join('\n') + '\n';
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'pl-groovy-'));
const options = join(tmp, 'patchline-options.txt');
writeFileSync(options, optionLines());
const run = spawnSync('groovy', ['-cp', resolve(root, 'test/groovy'), resolve(root, 'test/groovy/run-tests.groovy'), root, options], {
  encoding: 'utf8',
  env: { ...process.env, JAVA_HOME: javaHome() },
  maxBuffer: 16 * 1024 * 1024,
});
rmSync(tmp, { recursive: true, force: true });
const cases = run.stdout
  .split('\n')
  .filter((l) => /^(PASS|FAIL)\t/.test(l))
  .map((l) => {
    const [verdict, name, why] = l.split('\t');
    return { verdict: verdict!, name: name!, why: (why ?? '').replace(/\\n/g, '\n') };
  });

describe('Jenkins library (groovy)', () => {
  test('the options the fake patchline takes are the real ones', () => {
    expect(optionLines()).toContain('build --scratch 0\n');
    expect(optionLines()).toContain('harvest --run-dir 1\n');
    expect(optionLines()).not.toContain('harvest --scratch');
  });

  test('the groovy runner ran and reported its cases', () => {
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(run.status).toBe(cases.some((c) => c.verdict === 'FAIL') ? 1 : 0);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.verdict === 'FAIL') throw new Error(c.why);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExitCode } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/log.js';
import { writeResult } from '../../src/core/results.js';
import { runPipeline } from '../../src/run/pipeline.js';
import type { StepName } from '../../src/steps.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pl-run-'));
  writeFileSync(join(dir, 'patchline.yaml'), 'stateDir: state\nsources: [{ type: mbox, name: m, path: none.mbox }]\nrepos: { hello: { url: hello.git, branches: [main] } }\n');
  return join(dir, 'patchline.yaml');
}

const quiet: Logger = { info() {}, warn() {} };

/** Steps that end with the given codes, recording the order and the run dir each got. */
function steps(codes: Partial<Record<StepName, ExitCode>>) {
  const calls: Array<{ step: StepName; runDir?: string }> = [];
  const execute = async (step: StepName, opts: { runDir?: string }): Promise<ExitCode> => {
    calls.push({ step, runDir: opts.runDir });
    return codes[step] ?? 0;
  };
  return { calls, execute };
}

describe('patchline run: the chain', () => {
  test('all steps in table order, in one run dir', async () => {
    const { calls, execute } = steps({});
    const r = await runPipeline({ config: project() }, { execute, log: quiet });
    expect(calls.map((c) => c.step)).toEqual(['harvest', 'apply', 'build', 'test', 'publish', 'report']);
    expect(new Set(calls.map((c) => c.runDir))).toEqual(new Set([r.runDir]));
    expect(r.runDir).toMatch(/state\/runs\/\d{8}T\d{6}Z/);
    expect(r.code).toBe(0);
  });

  test('a failed stage does not stop the others (each takes its own work from the ledger); the run fails', async () => {
    const { calls, execute } = steps({ apply: 1 });
    const r = await runPipeline({ config: project() }, { execute, log: quiet });
    expect(calls.map((c) => c.step)).toEqual(['harvest', 'apply', 'build', 'test', 'publish', 'report']);
    expect(r.code).toBe(1);
  });

  test('a config error in the first step stops the chain with 2', async () => {
    const { calls, execute } = steps({ harvest: 2 });
    const r = await runPipeline({ config: project() }, { execute, log: quiet });
    expect(calls.map((c) => c.step)).toEqual(['harvest', 'report']);
    expect(r.code).toBe(2);
  });

  test('partly failed goes on, and the run is partly failed', async () => {
    const { calls, execute } = steps({ build: 3 });
    const r = await runPipeline({ config: project() }, { execute, log: quiet });
    expect(calls.map((c) => c.step)).toEqual(['harvest', 'apply', 'build', 'test', 'publish', 'report']);
    expect(r.code).toBe(3);
  });

  test('a failing report fails the run', async () => {
    const { execute } = steps({ report: 1 });
    expect((await runPipeline({ config: project() }, { execute, log: quiet })).code).toBe(1);
  });

  test('no new mail: nothing after harvest runs, and it says so', async () => {
    const lines: string[] = [];
    const calls: StepName[] = [];
    const execute = async (step: StepName, opts: { runDir?: string }): Promise<ExitCode> => {
      calls.push(step);
      const now = new Date().toISOString();
      writeResult(opts.runDir!, 'harvest', { runId: 'r', startedAt: now, finishedAt: now, sources: [], messages: [], series: [], counts: { seen: 0, patch: 0, cover: 0, comment: 0, 'pull-request': 0, other: 0, duplicate: 0, unroutable: 0, quarantined: 0 } } as never);
      return 0;
    };
    const r = await runPipeline({ config: project() }, { execute, log: { info: (l) => lines.push(l), warn: (l) => lines.push(l) } });
    expect(calls).toEqual(['harvest']);
    expect(r).toMatchObject({ code: 0, nothingNew: true });
    expect(lines.join('\n')).toMatch(/no new mail since the last run: nothing to do/);
  });

  test('a bad config is one line and exit 2, no step runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-run-'));
    writeFileSync(join(dir, 'patchline.yaml'), 'sources: []\n');
    const { calls, execute } = steps({});
    const r = await runPipeline({ config: join(dir, 'patchline.yaml') }, { execute, log: quiet });
    expect(r.code).toBe(2);
    expect(calls).toEqual([]);
  });
});

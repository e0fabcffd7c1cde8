import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { PatchlineError } from '../../src/core/errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latestRunDir, readResult, readResultIfExists, resolveRunDir, writeResult } from '../../src/core/results.js';

describe('result files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-results-'));

  test('validated on write', () => {
    let error: PatchlineError | undefined;
    try {
      writeResult(dir, 'apply', { series: [{ id: 's', status: 'bogus' }] } as never);
    } catch (err) {
      error = err as PatchlineError;
    }
    expect(error?.code).toBe('ERESULT');
    expect(error?.message).toMatch(/^apply.json does not match its schema: /);
    expect(error?.details?.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^series.0.status: expected one of applied/)]));
    expect(existsSync(join(dir, 'apply.json'))).toBe(false);
  });

  test('validated on read', () => {
    writeFileSync(join(dir, 'build.json'), JSON.stringify({ builds: [{ seriesId: 1 }] }));
    expect(() => readResult(dir, 'build')).toThrow(/build.json does not match its schema/);
  });

  test('round trip, and a missing file is undefined or a clear error', () => {
    writeResult(dir, 'publish', { repos: [] });
    expect(readResult(dir, 'publish')).toEqual({ repos: [] });
    expect(readResultIfExists(dir, 'apply')).toBeUndefined();
    expect(() => readResult(dir, 'apply')).toThrow(/apply.json is missing in the run dir/);
  });

  test('run dirs: harvest starts one, later steps continue the latest', () => {
    const state = mkdtempSync(join(tmpdir(), 'pl-state-'));
    expect(() => resolveRunDir({ stateDir: state, fresh: false })).toThrow(/no earlier run/);
    const first = resolveRunDir({ stateDir: state, fresh: true });
    expect(first.runDir).toMatch(/runs\/\d{8}T\d{6}Z$/);
    expect(latestRunDir(state)).toBe(first.runDir);
    expect(resolveRunDir({ stateDir: state, fresh: false }).runDir).toBe(first.runDir);
  });
});

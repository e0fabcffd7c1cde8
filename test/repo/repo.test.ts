import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEP_NAMES } from '../../src/steps.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the repository', () => {
  test('no symlink is committed (Jenkins library loaders refuse a library holding one)', () => {
    // git ls-files -s: mode 120000 is a symlink.
    const entries = execFileSync('git', ['ls-files', '-s'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.filter((e) => e.startsWith('120000 ')).map((e) => e.split('\t')[1])).toEqual([]);
  });

  test('every var in vars/ has its .txt help, and every .txt its var', () => {
    const files = readdirSync(join(root, 'vars'));
    const vars = files.filter((f) => f.endsWith('.groovy')).map((f) => f.slice(0, -'.groovy'.length)).sort();
    const docs = files.filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -'.txt'.length)).sort();
    expect(vars).toEqual(expect.arrayContaining(['patchlineStep', 'patchlinePipeline']));
    expect(docs).toEqual(vars);
  });

  test('every step of the table has its entry point, its dist binary and a stage var', () => {
    for (const step of STEP_NAMES) {
      expect(existsSync(join(root, 'steps', `${step}.ts`))).toBe(true);
      expect(existsSync(join(root, 'dist', 'steps', `${step}.js`))).toBe(true);
      expect(existsSync(join(root, 'vars', `patchline${step[0]!.toUpperCase()}${step.slice(1)}.groovy`))).toBe(true);
    }
  });
});

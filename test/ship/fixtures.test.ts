/**
 * The corpus and the Koji fixtures travel with the repo (test/fixtures/), byte-identical to the
 * shared copies they came from; where ../shared is absent (a clone alone) there is nothing to compare.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(process.cwd());
const SHARED = resolve(ROOT, '..', 'shared');
/** This file names ../shared to compare with it; no other test may. */
const SELF = join(ROOT, 'test', 'ship', 'fixtures.test.ts');
const PAIRS: Array<[string, string]> = [
  ['test/fixtures/corpus', 'corpus'],
  ['test/fixtures/koji', 'koji-fixtures'],
];

/** Every file under `dir`, relative to it, sorted. */
function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

describe('test fixtures inside the repo', () => {
  test.each(PAIRS)('%s is there and not empty', (own) => {
    expect(listTree(join(ROOT, own)).length).toBeGreaterThan(10);
  });

  const compare = existsSync(SHARED) ? test.each(PAIRS) : test.skip.each(PAIRS);
  compare('%s holds exactly the files of ../shared/%s, byte for byte', (own, shared) => {
    const mine = join(ROOT, own);
    const theirs = join(SHARED, shared);
    expect(listTree(mine)).toEqual(listTree(theirs));
    const differing = listTree(theirs).filter((f) => !readFileSync(join(mine, f)).equals(readFileSync(join(theirs, f))));
    expect(differing).toEqual([]);
  });

  test('no test reads ../shared', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, d.name);
        if (d.isDirectory()) {
          if (d.name !== 'fixtures') walk(path);
        } else if (path !== SELF && /\.(ts|js|groovy|sh)$/.test(d.name) && /(['"/])\.\.\/+(\.\.\/+)*shared\b|'\.\.',\s*'shared'/.test(readFileSync(path, 'utf8'))) {
          offenders.push(relative(ROOT, path));
        }
      }
    };
    walk(join(ROOT, 'test'));
    expect(offenders).toEqual([]);
  });
});

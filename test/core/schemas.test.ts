import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { PRECOMPILED_FILE, describeSchemaErrors, precompiledModuleSource, schemaRegistry, schemasDigest } from '../../src/core/schemas.js';

// `npm test` builds first, so dist/schemas/validators.cjs is the one the steps load.
describe('precompiled schema validators', () => {
  // Inside the package, so that the generated require('ajv-formats/...') resolves.
  mkdirSync(dirname(PRECOMPILED_FILE), { recursive: true });
  const dir = mkdtempSync(join(dirname(PRECOMPILED_FILE), 'test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'validators.cjs');
  writeFileSync(file, precompiledModuleSource());
  const mod = createRequire(import.meta.url)(file) as { digest: string; validators: Record<string, ValidateFunction> };

  test('the build wrote them, for the schemas as they are now', () => {
    expect(existsSync(PRECOMPILED_FILE)).toBe(true);
    const built = createRequire(import.meta.url)(PRECOMPILED_FILE) as { digest: string };
    expect(built.digest).toBe(schemasDigest());
  });

  test('they give the same verdicts and the same error lines as ajv compiling at run time', () => {
    const samples: Array<[string, unknown]> = [
      ['config.schema.json', { sources: [{ type: 'mbox', name: 'l', path: 'a' }], repos: { q: { url: 'u', branches: ['m'] } } }],
      ['config.schema.json', { sources: [{ type: 'imap', name: 'i', host: 'h', user: 'u', password: 'x' }], repos: { q: { branches: ['a b'] } } }],
      ['publish.schema.json', { repos: 'nope' }],
      ['harvest.schema.json', { runId: 1 }],
    ];
    for (const [id, value] of samples) {
      const runtime = schemaRegistry().getSchema(id)!;
      const pre = mod.validators[id]!;
      expect(pre(value)).toBe(runtime(value));
      expect(describeSchemaErrors(pre.errors)).toEqual(describeSchemaErrors(runtime.errors));
    }
  });
});

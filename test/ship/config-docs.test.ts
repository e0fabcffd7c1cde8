/** docs/config.md is what src/tools/config-docs.ts makes of the schemas today, and misses no key and no environment variable. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateConfig } from '../../src/core/config.js';
import { CONFIG_DOCS, ENVIRONMENT, EXAMPLE_CONFIG, renderConfigDocs } from '../../src/tools/config-docs.js';

const SCHEMAS = join(process.cwd(), 'resources', 'schemas');

/** Every property name declared anywhere in a config schema. */
function declaredKeys(): Set<string> {
  const keys = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'secret') continue; // { env } | { file }: the Secrets section and the type column say it
      if (k === 'properties' && typeof v === 'object' && v !== null) for (const name of Object.keys(v)) keys.add(name);
      walk(v);
    }
  };
  for (const f of ['config.schema.json', ...readdirSync(join(SCHEMAS, 'config')).map((f) => `config/${f}`)]) walk(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));
  return keys;
}

/** Environment variables read in src/: `process.env.X`, `process.env['X']`, `env.X` of a ProcessEnv parameter, and every 'PATCHLINE_*' name. */
function envVarsRead(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      if (d.isDirectory()) walk(path);
      else if (d.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\benv(?:\.|\[['"])([A-Z][A-Z0-9_]*)\b|'(PATCHLINE_[A-Z0-9_]+)'/g)) names.add((m[1] ?? m[2])!);
    }
  };
  walk(join(process.cwd(), 'src'));
  return names;
}

describe('docs/config.md', () => {
  test('is up to date with the schemas (npm run docs:config rewrites it)', () => {
    expect(readFileSync(CONFIG_DOCS, 'utf8')).toBe(renderConfigDocs());
  });

  test('has a row for every key a config schema declares', () => {
    const documented = new Set([...renderConfigDocs().matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!.split('.').pop()!.replace(/\[\]$/, '')));
    const missing = [...declaredKeys()].filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  test('its example is a valid config', () => {
    expect(() => validateConfig(parse(EXAMPLE_CONFIG), 'docs example')).not.toThrow();
  });

  test('lists every environment variable the code reads, PATCHLINE_CONFIG and PATCHLINE_DEBUG among them', () => {
    const listed = ENVIRONMENT.flatMap(([names]) => names.split(', '));
    const read = [...envVarsRead()];
    expect(read).toEqual(expect.arrayContaining(['PATCHLINE_DEBUG', 'JENKINS_URL', 'GIT_SSH_COMMAND']));
    expect(read.filter((n) => !listed.includes(n))).toEqual([]);
    expect(listed).toEqual(expect.arrayContaining(['PATCHLINE_CONFIG', 'PATCHLINE_DEBUG']));
  });
});

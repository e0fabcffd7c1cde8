import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { PACKAGE_ROOT, SCHEMAS_DIR } from './paths.js';

// ajv itself (~90 modules) is loaded only when the precompiled validators are missing or stale.
const requireCjs = createRequire(import.meta.url);
const loadAjv = () => (requireCjs('ajv/dist/2020') as { Ajv2020: typeof Ajv2020 }).Ajv2020;
const loadAddFormats = () => requireCjs('ajv-formats') as { default: (ajv: Ajv2020) => Ajv2020 };
const loadStandaloneCode = () => requireCjs('ajv/dist/standalone') as { default: (ajv: Ajv2020, refs: Record<string, string>) => string };

/** Validators compiled by `npm run build` (ajv standalone code): compiling at every step start costs ~0.4 s. */
export const PRECOMPILED_FILE = join(PACKAGE_ROOT, 'dist', 'schemas', 'validators.cjs');

interface SchemaFile {
  path: string;
  text: string;
  id: string;
}

let files: SchemaFile[] | undefined;
let ajv: Ajv2020 | undefined;
let precompiled: Record<string, ValidateFunction> | null | undefined;
const cache = new Map<string, ValidateFunction>();

function listSchemaFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return listSchemaFiles(path);
      return name.endsWith('.schema.json') ? [path] : [];
    });
}

function schemaFiles(): SchemaFile[] {
  files ??= listSchemaFiles(SCHEMAS_DIR).map((path) => {
    const text = readFileSync(path, 'utf8');
    const id = (JSON.parse(text) as { $id?: string }).$id;
    if (!id) throw new Error(`schema ${relative(SCHEMAS_DIR, path)} has no $id`);
    return { path, text, id };
  });
  return files;
}

/** A digest of every schema: precompiled validators are used only when it still matches. */
export function schemasDigest(): string {
  const hash = createHash('sha256');
  for (const f of schemaFiles()) hash.update(f.id).update('\0').update(f.text).update('\0');
  return hash.digest('hex');
}

/** One ajv instance holding every schema of resources/schemas, addressed by their `$id`. */
export function schemaRegistry(opts: { source?: boolean } = {}): Ajv2020 {
  if (ajv && !opts.source) return ajv;
  const instance = new (loadAjv())({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false, code: { source: opts.source === true } });
  loadAddFormats().default(instance);
  for (const f of schemaFiles()) instance.addSchema(JSON.parse(f.text) as object);
  if (!opts.source) ajv = instance;
  return instance;
}

function loadPrecompiled(): Record<string, ValidateFunction> | null {
  if (precompiled !== undefined) return precompiled;
  precompiled = null;
  if (existsSync(PRECOMPILED_FILE)) {
    const mod = requireCjs(PRECOMPILED_FILE) as { digest: string; validators: Record<string, ValidateFunction> };
    if (mod.digest === schemasDigest()) precompiled = mod.validators;
  }
  return precompiled;
}

/** The validator of the schema whose `$id` is `id` (e.g. `harvest.schema.json`). */
export function validatorFor(id: string): ValidateFunction {
  const hit = cache.get(id) ?? loadPrecompiled()?.[id] ?? schemaRegistry().getSchema(id);
  if (!hit) throw new Error(`no schema with $id ${id} in ${SCHEMAS_DIR}`);
  cache.set(id, hit);
  return hit;
}

/** The CommonJS module `npm run build` writes to dist/schemas/validators.cjs: every schema, compiled. */
export function precompiledModuleSource(): string {
  const ids = schemaFiles().map((f) => f.id);
  const code = loadStandaloneCode().default(schemaRegistry({ source: true }), Object.fromEntries(ids.map((id) => [id, id])));
  return `${code}\nmodule.exports = { digest: ${JSON.stringify(schemasDigest())}, validators: module.exports };\n`;
}
/** `/repos/qemu` + missing `url` → `repos.qemu.url`. */
function dottedPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '(top level)' : parts.join('.');
}

/** ajv errors as `dotted.path: what is expected`, one per line, most useful first. */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined): string[] {
  if (!errors) return [];
  const lines = new Set<string>();
  for (const e of errors) {
    switch (e.keyword) {
      case 'required':
        lines.add(`${dottedPath(e.instancePath, (e.params as { missingProperty: string }).missingProperty)}: required`);
        break;
      case 'additionalProperties':
        lines.add(`${dottedPath(e.instancePath, (e.params as { additionalProperty: string }).additionalProperty)}: unknown key`);
        break;
      case 'enum':
        lines.add(`${dottedPath(e.instancePath)}: expected one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ')}`);
        break;
      case 'type':
        lines.add(`${dottedPath(e.instancePath)}: expected ${(e.params as { type: string }).type}`);
        break;
      case 'if':
      case 'anyOf':
      case 'oneOf':
        break; // the branch errors say more
      default:
        lines.add(`${dottedPath(e.instancePath)}: ${e.message ?? e.keyword}`);
    }
  }
  if (lines.size === 0 && errors.length > 0) lines.add(`${dottedPath(errors[0]!.instancePath)}: ${errors[0]!.message ?? 'invalid'}`);
  return [...lines];
}

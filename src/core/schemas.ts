import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { SCHEMAS_DIR } from './paths.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

let ajv: Ajv2020 | undefined;

function listSchemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listSchemaFiles(path);
    return name.endsWith('.schema.json') ? [path] : [];
  });
}

/** One ajv instance holding every schema of resources/schemas, addressed by their `$id`. */
export function schemaRegistry(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false });
  addFormats(ajv);
  for (const file of listSchemaFiles(SCHEMAS_DIR)) {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { $id?: string };
    if (!schema.$id) throw new Error(`schema ${relative(SCHEMAS_DIR, file)} has no $id`);
    ajv.addSchema(schema);
  }
  return ajv;
}

/** The validator of the schema whose `$id` is `id` (e.g. `harvest.schema.json`). */
export function validatorFor(id: string): ValidateFunction {
  const v = schemaRegistry().getSchema(id);
  if (!v) throw new Error(`no schema with $id ${id} in ${SCHEMAS_DIR}`);
  return v;
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

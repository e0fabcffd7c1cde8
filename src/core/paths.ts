import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json and resources/ live), from src/ or from dist/src/. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'resources'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('patchline: cannot find the package root (package.json + resources/)');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
export const RESOURCES_DIR = join(PACKAGE_ROOT, 'resources');
export const SCHEMAS_DIR = join(RESOURCES_DIR, 'schemas');
export const TEMPLATES_DIR = join(RESOURCES_DIR, 'templates');

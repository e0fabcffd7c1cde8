import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { BuildResult } from '../../src/build/types.js';
import type { Config } from '../../src/core/config.js';
import { executeStep } from '../../src/core/step.js';
import type { KojiHub, TestPki } from './koji-hub.js';
import { makePackageFixture, type PackageFixture, type PackageOptions } from './rpm-fixtures.js';

/** The package fixture (one applied series) built by Koji through a test hub: the koji INI and config that point at it. */

export interface KojiIniOptions {
  /** Give the profiles the hub's topurl (default true); without it RPMs come through the hub. */
  topurl?: boolean;
}

/** A koji INI with profile [hub] (ssl) and [pw] (password) pointing at the hub. */
export function kojiIni(dir: string, hub: KojiHub, pki: TestPki, opts: KojiIniOptions = {}): string {
  const file = join(dir, 'koji.conf');
  const common: Record<string, string> = { server: hub.url, weburl: 'https://koji.example.org/koji', ...(opts.topurl === false ? {} : { topurl: hub.topurl }) };
  const sections = { hub: { ...common, authtype: 'ssl', cert: pki.clientPemFile, serverca: pki.caFile }, pw: { ...common, authtype: 'password', user: 'patchline', serverca: pki.caFile } };
  writeFileSync(file, Object.entries(sections).map(([name, kv]) => `[${name}]\n${Object.entries(kv).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`).join('\n'));
  return file;
}

export const FEDORA_40 = { name: 'fedora-40', builder: 'koji', target: 'f40-candidate', dist: '.fc40' } as const;
export const FEDORA_41 = { name: 'fedora-41', builder: 'koji', target: 'f41-candidate', dist: '.fc41' } as const;

/** The package fixture with Koji platforms (fedora-40 and fedora-41 unless `platforms`) on profile [hub]. */
export function kojiFixture(hub: KojiHub, pki: TestPki, opts: PackageOptions & KojiIniOptions = {}): PackageFixture {
  const f = makePackageFixture({ platforms: [FEDORA_40, FEDORA_41], ...opts, build: { kojiProfile: 'hub', ...opts.build } });
  const config = parse(readFileSync(f.configFile, 'utf8')) as Config;
  config.build = { ...config.build, kojiConfig: kojiIni(f.dir, hub, pki, opts) };
  writeFileSync(f.configFile, stringify(config));
  return f;
}

/** The build step in this process; build.json as written (no builds when the step stopped first). */
export async function buildStep(f: PackageFixture, runDir = f.runDir): Promise<{ code: number; result: BuildResult }> {
  const code = await executeStep('build', { config: f.configFile, runDir, quiet: true });
  let result = { builds: [] } as unknown as BuildResult;
  try {
    result = JSON.parse(readFileSync(join(runDir, 'build.json'), 'utf8')) as BuildResult;
  } catch {
    // no build.json: the step stopped before building
  }
  return { code, result };
}

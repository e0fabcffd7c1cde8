import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import type { ReportConfig } from '../../src/core/config-types.js';
import type { StepContext } from '../../src/core/step-context.js';
import { fixtureRunId, writeRunFixture, type RunFixture } from '../support/result-fixtures.js';

/** A state dir with a config (repos qemu and libvirt, the given report section) and one run dir holding `files`. */
export function reportWorld(report: ReportConfig, files: RunFixture, runId = fixtureRunId()): { base: string; runDir: string; configFile: string } {
  const base = mkdtempSync(join(tmpdir(), 'pl-report-'));
  const configFile = join(base, 'patchline.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }],
      repos: { qemu: { url: 'qemu.git', branches: ['master', 'stable-2.1'], report: { recipients: ['qemu-team@example.org'] } }, libvirt: { url: 'libvirt.git', branches: ['master'] } },
      report,
    }),
  );
  const runDir = join(base, '.patchline', 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  writeRunFixture(runDir, files);
  return { base, runDir, configFile };
}

export function stepContext(configFile: string, runDir: string, extra: Record<string, unknown> = {}, warnings: string[] = []): StepContext {
  return { loaded: loadConfig(configFile), runDir, runId: runDir.split('/').pop()!, options: { config: configFile, ...extra }, log: { info() {}, warn: (l) => warnings.push(l) } };
}

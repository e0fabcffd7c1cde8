/** The programs a run calls are installed. */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/config.js';
import { buildSettings } from '../build/settings.js';
import { isRemoteDestination } from '../core/config-checks.js';
import type { CheckProblem } from './problem.js';

export function onPath(cmd: string, path = process.env.PATH ?? ''): boolean {
  return path.split(':').some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Each tool with the part of the config that needs it. */
export function neededTools(loaded: LoadedConfig): Array<{ tool: string; where: string; why: string }> {
  const { config } = loaded;
  const platforms = buildSettings(loaded).platforms;
  const builds = Object.values(config.repos).some((r) => r.build !== undefined);
  const needs = [
    { tool: 'git', where: 'repos', why: 'apply clones, applies and pushes with git' },
    ...(builds ? [{ tool: 'rpmbuild', where: 'repos', why: 'the SRPM is made with rpmbuild' }, { tool: 'rpmspec', where: 'repos', why: 'the spec is read with rpmspec' }] : []),
    ...(builds && platforms.length > 0 ? [{ tool: 'createrepo_c', where: 'platforms', why: 'publish makes the yum repos with createrepo_c' }, { tool: 'rpm', where: 'platforms', why: 'publish reads the RPM headers with rpm' }] : []),
    ...(builds && config.test?.rpmlint !== false ? [{ tool: 'rpmlint', where: 'test.rpmlint', why: 'the test step runs rpmlint on every built RPM' }] : []),
    ...(config.publish?.destination !== undefined
      ? [{ tool: 'rsync', where: 'publish.destination', why: isRemoteDestination(config.publish.destination) ? 'a remote destination is written with rsync' : 'the status page is copied beside the repos with rsync' }]
      : []),
  ];
  return needs;
}

export function toolProblems(loaded: LoadedConfig, path?: string): CheckProblem[] {
  return neededTools(loaded)
    .filter((n) => !onPath(n.tool, path))
    .map((n) => ({ where: n.where, message: `${n.tool} is not installed (not found on PATH): ${n.why}` }));
}

/** The Koji profiles the koji platforms use: found, complete, and their certificate files readable. */
import { accessSync, constants } from 'node:fs';
import type { LoadedConfig } from '../core/config.js';
import { buildSettings } from '../build/settings.js';
import { loadKojiProfile } from '../koji/profile.js';
import { reason, type CheckProblem } from './problem.js';

function unreadableFile(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

export function kojiProblems(loaded: LoadedConfig): CheckProblem[] {
  const settings = buildSettings(loaded);
  // one check per profile, named by the first platform that uses it
  const profiles = new Map<string, string>();
  for (const [i, p] of settings.platforms.entries()) {
    if (p.builder !== 'koji') continue;
    const name = p.profile ?? settings.kojiProfile;
    if (!profiles.has(name)) profiles.set(name, p.profile !== undefined ? `platforms.${i}.profile` : 'build.kojiProfile');
  }
  const problems: CheckProblem[] = [];
  for (const [name, where] of profiles) {
    let profile;
    try {
      profile = loadKojiProfile(name, settings.kojiConfigFiles);
    } catch (err) {
      problems.push({ where, message: reason(err) });
      continue;
    }
    const files: Array<[string, string | undefined]> = [
      ['cert', profile.cert],
      ['serverca', profile.serverca],
    ];
    for (const [key, file] of files) {
      const why = file === undefined ? undefined : unreadableFile(file);
      if (why) problems.push({ where, message: `Koji profile [${name}] (${profile.file}): cannot read its ${key} ${file} (${why})` });
    }
    if (profile.authtype === 'password') {
      if (!profile.user) problems.push({ where, message: `Koji profile [${name}] (${profile.file}): authtype password needs "user"` });
      if (!settings.kojiPassword) problems.push({ where: 'build.kojiPassword', message: `required: Koji profile [${name}] logs in with a password` });
    }
  }
  return problems;
}

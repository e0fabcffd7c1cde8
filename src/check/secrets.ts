/** Every secret the config names (an env var or a file) is there and not empty. */
import { resolveFrom } from '../core/config.js';
import type { Config, SecretRef } from '../core/config-types.js';
import { readSecret } from '../core/secrets.js';
import { reason, type CheckProblem } from './problem.js';

/** The secrets a config names, by dotted path. */
export function secretRefs(config: Config): Array<{ where: string; ref: SecretRef }> {
  const refs: Array<{ where: string; ref: SecretRef }> = [];
  for (const [i, s] of config.sources.entries()) if (s.type === 'imap') refs.push({ where: `sources.${i}.password`, ref: s.password });
  if (config.build?.kojiPassword) refs.push({ where: 'build.kojiPassword', ref: config.build.kojiPassword });
  if (config.report?.smtp?.password) refs.push({ where: 'report.smtp.password', ref: config.report.smtp.password });
  if (config.jenkins?.token) refs.push({ where: 'jenkins.token', ref: config.jenkins.token });
  return refs;
}

/** Read as a run reads them (the values are never printed). */
export function secretProblems(config: Config, baseDir: string, env: NodeJS.ProcessEnv = process.env): CheckProblem[] {
  return secretRefs(config).flatMap(({ where, ref }) => {
    try {
      readSecret(ref, where, baseDir, env);
      return [];
    } catch (err) {
      const file = 'file' in ref ? ` (${resolveFrom(baseDir, ref.file)})` : '';
      return [{ where, message: `${reason(err).replace(`${where}: `, '')}${file}` }];
    }
  });
}

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'ini';
import { PatchlineError } from '../core/errors.js';
import { resolveFrom } from '../core/config.js';

/** One profile of Koji's own client config (the [section] of ~/.koji/config or /etc/koji.conf). */
export interface KojiProfile {
  name: string;
  server: string;
  weburl?: string;
  topurl?: string;
  authtype: 'ssl' | 'password';
  /** PEM file holding the client key and certificate (authtype ssl). */
  cert?: string;
  serverca?: string;
  user?: string;
  /** Where the profile was read from, for messages. */
  file: string;
}

/** The files koji itself reads, in order, later ones overriding earlier ones. */
export function defaultProfileFiles(home = homedir()): string[] {
  const confD = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.conf')).sort().map((f) => join(dir, f)) : []);
  return [...confD('/etc/koji.conf.d'), '/etc/koji.conf', ...confD(join(home, '.koji/config.d')), join(home, '.koji/config')].filter((f) => existsSync(f));
}

/** Expand ~ and resolve a relative path against the INI file's directory. */
function localPath(value: string, file: string): string {
  return resolveFrom(dirname(file), value.replace(/^~(?=\/|$)/, homedir()));
}

/**
 * Environment variables that override the profile's files, so that a CI system can hand over a
 * credential it keeps (a Jenkins "Secret file") without writing a Koji config: the variable holds
 * the path of the file.
 */
export const KOJI_FILE_ENV = {
  /** PEM holding the client certificate and its key, as koji's own `cert =`. */
  cert: 'PATCHLINE_KOJI_CERT',
  /** CA bundle that signed the hub's certificate, as koji's own `serverca =`. */
  serverca: 'PATCHLINE_KOJI_SERVERCA',
} as const;

/** The path an override variable names (relative: to the working directory), checked to exist so the message names the variable. */
function fileFromEnv(key: keyof typeof KOJI_FILE_ENV, env: NodeJS.ProcessEnv): string | undefined {
  const variable = KOJI_FILE_ENV[key];
  const value = env[variable];
  if (value === undefined || value === '') return undefined;
  const path = resolve(value);
  if (!existsSync(path)) throw new PatchlineError('ECONFIG', `${variable} names a file that does not exist (it overrides the Koji profile's "${key}")`, { input: path });
  return path;
}

export function loadKojiProfile(name: string, files: string[], env: NodeJS.ProcessEnv = process.env): KojiProfile {
  let found: { section: Record<string, unknown>; file: string } | undefined;
  for (const file of files) {
    let parsed: Record<string, unknown>;
    try {
      parsed = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new PatchlineError('ECONFIG', `cannot read the Koji config: ${(err as Error).message}`, { input: file });
    }
    const section = parsed[name];
    if (typeof section === 'object' && section !== null) found = { section: { ...found?.section, ...(section as Record<string, unknown>) }, file };
  }
  if (!found) throw new PatchlineError('ECONFIG', `Koji profile [${name}] not found in ${files.join(', ') || 'any Koji config file'}`, { input: name });
  const { section, file } = found;
  const str = (key: string) => (typeof section[key] === 'string' && section[key] !== '' ? (section[key] as string) : undefined);
  // a file named by the environment wins over the profile's
  const path = (key: keyof typeof KOJI_FILE_ENV) => fileFromEnv(key, env) ?? (str(key) && localPath(str(key)!, file));
  const server = str('server');
  if (!server) throw new PatchlineError('ECONFIG', `Koji profile [${name}]: "server" is missing`, { input: file });
  const cert = path('cert');
  const serverca = path('serverca');
  const authtype = str('authtype') ?? (cert ? 'ssl' : 'password');
  if (authtype !== 'ssl' && authtype !== 'password') {
    throw new PatchlineError('ECONFIG', `Koji profile [${name}]: authtype "${authtype}" is not supported (ssl or password)`, { input: file });
  }
  if (authtype === 'ssl' && !cert) throw new PatchlineError('ECONFIG', `Koji profile [${name}]: authtype ssl needs "cert" (or ${KOJI_FILE_ENV.cert})`, { input: file });
  return {
    name,
    server,
    weburl: str('weburl'),
    topurl: str('topurl'),
    authtype,
    cert,
    serverca,
    user: str('user'),
    file,
  };
}

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
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

export function loadKojiProfile(name: string, files: string[]): KojiProfile {
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
  const server = str('server');
  if (!server) throw new PatchlineError('ECONFIG', `Koji profile [${name}]: "server" is missing`, { input: file });
  const authtype = str('authtype') ?? (str('cert') ? 'ssl' : 'password');
  if (authtype !== 'ssl' && authtype !== 'password') {
    throw new PatchlineError('ECONFIG', `Koji profile [${name}]: authtype "${authtype}" is not supported (ssl or password)`, { input: file });
  }
  const cert = str('cert');
  if (authtype === 'ssl' && !cert) throw new PatchlineError('ECONFIG', `Koji profile [${name}]: authtype ssl needs "cert"`, { input: file });
  const serverca = str('serverca');
  return {
    name,
    server,
    weburl: str('weburl'),
    topurl: str('topurl'),
    authtype,
    cert: cert && localPath(cert, file),
    serverca: serverca && localPath(serverca, file),
    user: str('user'),
    file,
  };
}

import { secretEnvNames } from './secrets.js';

/** What every tool gets: where programs are, the home dir, the locale, the time zone. */
const BASE = /^(PATH|HOME|USER|LOGNAME|TMPDIR|TZ|LANG|LANGUAGE|LC_[A-Z]+)$/;

/** Reaching a remote over ssh or https: the agent's ssh agent and askpass, proxies, CA files. */
export const TRANSPORT_VARS = /^(SSH_AUTH_SOCK|SSH_ASKPASS|SSH_ASKPASS_REQUIRE|DISPLAY|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|ALL_PROXY|all_proxy|SSL_CERT_FILE|SSL_CERT_DIR|CURL_CA_BUNDLE)$/;

/**
 * The environment of a child process (git, rpmbuild, createrepo_c, rsync...): only the variables
 * of BASE and those `pass` admits, never one of patchline's own (PATCHLINE_*) nor one the config
 * names as a secret, then `extra` on top. A Jenkins `withCredentials` binding or an operator's
 * exported password thus reaches no tool that was not meant to have it.
 */
export function childEnv(extra: Record<string, string> = {}, pass?: RegExp, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const secrets = secretEnvNames();
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k.startsWith('PATCHLINE_') || secrets.has(k)) continue;
    if (BASE.test(k) || pass?.test(k)) out[k] = v;
  }
  return { ...out, ...extra };
}

import { isIP } from 'node:net';
import { PatchlineError } from '../core/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port`, `[::1]:port`. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new PatchlineError('ECONFIG', `listen address ${JSON.stringify(text)}: expected host:port (e.g. 127.0.0.1:8443, [::1]:8443)`, { input: text });
  return { host: m[1] ?? m[2]!, port };
}

/** 127.0.0.0/8 and ::1 (also IPv4-mapped): only there may the API speak plain HTTP. */
export function isLoopback(host: string): boolean {
  const v4 = host.replace(/^::ffff:/i, '');
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(host) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/i.test(host);
}

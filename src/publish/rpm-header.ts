import { closeSync, openSync, readSync } from 'node:fs';
import { PatchlineError, type ErrorCode } from '../core/errors.js';
import { runTool } from './tool.js';

export interface RpmHeader {
  name: string;
  version: string;
  release: string;
  arch: string;
}

const RPM_LEAD_MAGIC = 0xedabeedb;

/** `rpm -qp` reads a non-RPM file as a manifest of other file names: check the lead first. */
/** `rpm -qp` reads a non-RPM file as a list of other files: check the lead's magic first (publish and the test step). */
export function assertRpmLead(file: string, code: ErrorCode = 'EPUBLISH'): void {
  const buf = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.readUInt32BE(0) !== RPM_LEAD_MAGIC) throw new PatchlineError(code, `not an RPM file (no RPM lead): ${file}`, { input: file });
}

/** Name, version, release and arch of an RPM file, by `rpm -qp`; a corrupt file is an EPUBLISH error naming it. */
export async function readRpmHeader(file: string): Promise<RpmHeader> {
  assertRpmLead(file);
  const { stdout } = await runTool('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n', '--', file], { code: 'EPUBLISH', input: file });
  const [name = '', version = '', release = '', arch = ''] = stdout.trim().split('\t');
  return { name, version, release, arch };
}

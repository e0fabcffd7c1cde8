/** The reference: run the real `git mailinfo` on a message (args array, no shell) and read its outputs. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitMailinfo {
  author?: string;
  email?: string;
  subject?: string;
  date?: string;
  /** msg and patch as git wrote them. */
  msg: Buffer;
  patch: Buffer;
  /** git mailinfo's exit status (1: it met an error, and git am would refuse the mail) and its stderr. */
  status: number;
  stderr: string;
}

export function gitMailinfo(raw: Buffer, opts: { scissors?: boolean } = {}): GitMailinfo {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-mailinfo-'));
  try {
    const msgPath = join(dir, 'msg');
    const patchPath = join(dir, 'patch');
    const args = ['mailinfo', '-u', ...(opts.scissors ? ['--scissors'] : []), msgPath, patchPath];
    const run = spawnSync('git', args, { input: raw, stdio: ['pipe', 'pipe', 'pipe'] });
    if (run.status !== 0 && run.status !== 1) throw new Error(`git mailinfo exited ${run.status}: ${run.stderr.toString()}`);
    const info = run.stdout.toString('utf8');
    const field = (name: string) => info.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    return { author: field('Author'), email: field('Email'), subject: field('Subject'), date: field('Date'), msg: readFileSync(msgPath), patch: readFileSync(patchPath), status: run.status, stderr: run.stderr.toString('utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Text as patchline's contract gives it: UTF-8 when valid, otherwise one char per byte. */
export function asText(buf: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

export const CORPUS_DIR = new URL('../../fixtures/corpus/', import.meta.url).pathname;
export const VECTOR_DIR = new URL('../../fixtures/mail/', import.meta.url).pathname;

export function emlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => join(dir, f));
}

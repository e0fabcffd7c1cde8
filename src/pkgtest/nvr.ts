import { PatchlineError } from '../core/errors.js';
import { assertRpmLead } from '../publish/rpm-header.js';
import { capture } from './process.js';

export interface Evr {
  epoch: number;
  version: string;
  release: string;
}

/** What the test step needs of an RPM's header. */
export interface RpmId extends Evr {
  name: string;
  arch: string;
  file: string;
}

/** `name-version-release`, with `epoch:` before the version when it is not 0. */
export function nvrOf(p: RpmId): string {
  return `${p.name}-${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

const assertRpm = (file: string): void => assertRpmLead(file, 'ETOOL');

/** Name, epoch, version, release, arch of RPM files, one `rpm -qp` for all of them. */
export async function readRpmIds(files: readonly string[]): Promise<RpmId[]> {
  if (files.length === 0) return [];
  files.forEach(assertRpm);
  const stdout = await capture('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n', '--', ...files], files[0]);
  const lines = stdout.split('\n').filter(Boolean);
  if (lines.length !== files.length) throw new PatchlineError('ETOOL', `rpm -qp gave ${lines.length} headers for ${files.length} files`, { input: files.join(' ') });
  return lines.map((line, i) => {
    const [name = '', epoch = '0', version = '', release = '', arch = ''] = line.split('\t');
    return { name, epoch: Number(epoch) || 0, version, release, arch, file: files[i]! };
  });
}

/** A Lua string literal holding `s` whatever it contains: every byte outside a safe set as `\ddd` (no quote, brace or % survives). */
function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) out += /[A-Za-z0-9._+~^]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\${b.toString().padStart(3, '0')}`;
  return out + '"';
}

const luaEvr = (e: Evr) => `{${Math.trunc(e.epoch)},${luaString(e.version)},${luaString(e.release)}}`;

/**
 * For each group (a new package and the published EVRs of its name), rpm's own ordering: the
 * index of the highest published EVR and how the new one compares to it (-1, 0, 1), by
 * `rpm.vercmp` on version then release after the epoch, as rpm and dnf order packages. One
 * `rpm --eval` for all groups; present in every rpm since 4.7 (rpmdev-vercmp is not).
 */
export async function compareWithHighest(groups: ReadonlyArray<{ candidate: Evr; published: readonly Evr[] }>): Promise<Array<{ highest: number; cmp: number } | undefined>> {
  const todo = groups.map((g, i) => ({ g, i })).filter(({ g }) => g.published.length > 0);
  const out: Array<{ highest: number; cmp: number } | undefined> = groups.map(() => undefined);
  if (todo.length === 0) return out;
  const data = todo.map(({ g }) => `{${luaEvr(g.candidate)},{${g.published.map(luaEvr).join(',')}}}`).join(',');
  const lua = [
    'local function cmp(a,b) if a[1]~=b[1] then return a[1]<b[1] and -1 or 1 end local c=rpm.vercmp(a[2],b[2]) if c~=0 then return c end return rpm.vercmp(a[3],b[3]) end',
    `local groups={${data}}`,
    'local out={}',
    'for _,g in ipairs(groups) do local h=1 for j=2,#g[2] do if cmp(g[2][j],g[2][h])>0 then h=j end end out[#out+1]=(h-1)..":"..cmp(g[1],g[2][h]) end',
    'print(table.concat(out," "))',
  ].join(' ');
  const stdout = await capture('rpm', ['--eval', `%{lua: ${lua}}`], 'rpm --eval');
  const fields = stdout.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== todo.length || !fields.every((f) => /^\d+:-?\d+$/.test(f))) throw new PatchlineError('ETOOL', `rpm --eval with rpm.vercmp gave ${JSON.stringify(stdout.trim().slice(0, 200))}`, { input: 'rpm --eval' });
  todo.forEach(({ i }, k) => {
    const [h, c] = fields[k]!.split(':').map(Number) as [number, number];
    out[i] = { highest: h, cmp: Math.sign(c) };
  });
  return out;
}

import type { Git } from '../src/git/git.js';

/** One file of the generated history: a real-looking C source of `LINES` lines. */
const LINES = 40;

function cLine(file: number, line: number, value: number): string {
  return line % 8 === 0 ? `/* section ${line / 8} of module ${file} */` : `static int mod${file}_param${line} = ${value};`;
}

/** Spread over directories so that each commit rewrites small trees only. */
function pathOf(file: number): string {
  return `src/d${file % 100}/mod${file}.c`;
}

/** The tree `writeHistory` starts from when given no `from`: path → content. */
export function historyBase(files: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: files }, (_, f) => [pathOf(f), Array.from({ length: LINES }, (_, l) => cLine(f, l, l)).join('\n') + '\n']));
}

/**
 * Append `count` commits to `branch` with one `git fast-import` (thousands a second): commit i
 * edits one line of module `i mod files`, authored by one of a few developers, a minute apart.
 * Starts from `from` (a commit holding `historyBase(files)`) or from nothing (the first commit adds only its file). Returns the new tip.
 */
export async function writeHistory(git: Git, opts: { count: number; files: number; branch: string; from?: string; startTime?: number }): Promise<string> {
  const content = Array.from({ length: opts.files }, (_, f) => Array.from({ length: LINES }, (_, l) => cLine(f, l, l)));
  const start = opts.startTime ?? 1577836800;
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const chunks: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const f = i % opts.files;
    const l = 1 + (Math.floor(i / opts.files) % (LINES - 1));
    content[f]![l] = `static int mod${f}_param${l} = ${i + 1000}; /* tuned in change ${i + 1} */`;
    const when = start + i * 60;
    chunks.push(`commit refs/heads/${opts.branch}\nauthor Dev ${i % 7} <dev${i % 7}@example.org> ${when} +0000\ncommitter Maintainer <maint@example.org> ${when} +0000\n`);
    chunks.push(data(`mod${f}: tune param${l}\n\nChange ${i + 1}: set param${l} of module ${f} to ${i + 1000}.\n`));
    if (i === 0 && opts.from) chunks.push(`from ${opts.from}\n`);
    chunks.push(`M 100644 inline ${pathOf(f)}\n${data(content[f]!.join('\n') + '\n')}\n`);
  }
  await git.run(['fast-import', '--quiet'], { input: chunks.join('') });
  return (await git.revParse(`refs/heads/${opts.branch}`))!;
}

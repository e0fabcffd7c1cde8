/**
 * The part of a patch that did not apply, for the conflict mail: the file sections of the files
 * git complained about, and of those git named a line of ("patch failed: f:12"), only that hunk.
 */

/** A longer excerpt is cut (apply.json and the mail stay small): the command in the mail shows the rest. */
const MAX_HUNK_LINES = 200;
const MAX_HUNK_CHARS = 32 * 1024;

interface Hunk {
  oldStart: number;
  lines: string[];
}

interface FileSection {
  /** The paths the section touches (old and new name), without git's a/ b/ prefix. */
  paths: Set<string>;
  header: string[];
  hunks: Hunk[];
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** git's C-style quoted path (`"a/f\303\251"`) as text; an unquoted one as it is. */
function unquotePath(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    const octal = /^[0-3][0-7]{2}/.exec(body.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(C_ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A path as the patch writes it (`a/src/f.c`, quoted or not, a TAB after a name with spaces): without its first component, as git am -p1 reads it. */
function patchPath(raw: string): string | undefined {
  const name = unquotePath(raw.replace(/\t$/, ''));
  if (name === '/dev/null') return undefined;
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(slash + 1);
}

/** `diff --git a/P b/P` names the same path twice; only then is an unquoted line with spaces unambiguous. */
function diffGitPaths(line: string): string[] {
  const rest = line.slice('diff --git '.length);
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
  if (quoted) return [quoted[1]!, quoted[2]!].flatMap((p) => patchPath(p) ?? []);
  const half = (rest.length - 1) / 2;
  const a = rest.slice(0, half);
  const b = rest.slice(half + 1);
  return Number.isInteger(half) && a.slice(a.indexOf('/')) === b.slice(b.indexOf('/')) ? [patchPath(a)!] : [];
}

const PREFIXED_PATH = /^(?:---|\+\+\+) (.+)$/;
const BARE_PATH = /^(?:rename|copy) (?:from|to) (.+)$/;
const HUNK_HEAD = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/** The file sections of a diff (what follows the last hunk of a section, e.g. a format-patch signature, is dropped). */
function fileSections(diff: string): FileSection[] {
  const lines = diff.split('\n');
  const sections: FileSection[] = [];
  let i = lines.findIndex((l) => l.startsWith('diff --git '));
  while (i >= 0 && i < lines.length && lines[i]!.startsWith('diff --git ')) {
    const section: FileSection = { paths: new Set(diffGitPaths(lines[i]!)), header: [lines[i]!], hunks: [] };
    // the header: mode, index, ---/+++, renames, or a binary patch; a "-- " line is the signature
    for (i++; i < lines.length && !/^(?:@@ |diff --git |-- $)/.test(lines[i]!); i++) {
      const prefixed = PREFIXED_PATH.exec(lines[i]!)?.[1];
      const bare = BARE_PATH.exec(lines[i]!)?.[1];
      const path = prefixed !== undefined ? patchPath(prefixed) : bare !== undefined ? unquotePath(bare) : undefined;
      if (path !== undefined) section.paths.add(path);
      section.header.push(lines[i]!);
    }
    for (let m = HUNK_HEAD.exec(lines[i] ?? ''); m; m = HUNK_HEAD.exec(lines[i] ?? '')) {
      const hunk: Hunk = { oldStart: Number(m[1]), lines: [lines[i]!] };
      let oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      let newLeft = m[3] === undefined ? 1 : Number(m[3]);
      for (i++; i < lines.length && (oldLeft > 0 || newLeft > 0 || lines[i]!.startsWith('\\')); i++) {
        const c = lines[i]![0];
        if (c === '-') oldLeft--;
        else if (c === '+') newLeft--;
        else if (c === ' ' || c === undefined) (oldLeft--, newLeft--); // an empty line: context whose space was lost in transit
        else if (c !== '\\') break;
        hunk.lines.push(lines[i]!);
      }
      section.hunks.push(hunk);
    }
    sections.push(section);
    while (i < lines.length && !lines[i]!.startsWith('diff --git ')) i++;
  }
  return sections;
}

/**
 * The sections of `diff` touching `where`'s files: for a file with line numbers, its header and
 * the hunks starting at those lines (all of them when none does). Undefined when no section matches.
 */
export function failingHunks(diff: string, where: ReadonlyMap<string, readonly number[]>): string | undefined {
  const out: string[] = [];
  for (const section of fileSections(diff)) {
    const named = [...section.paths].filter((p) => where.has(p));
    if (named.length === 0) continue;
    const at = section.hunks.filter((h) => named.some((p) => where.get(p)!.includes(h.oldStart)));
    out.push(...section.header, ...(at.length ? at : section.hunks).flatMap((h) => h.lines));
  }
  if (out.length === 0) return undefined;
  let kept = 0;
  for (let chars = 0; kept < Math.min(out.length, MAX_HUNK_LINES) && chars + out[kept]!.length <= MAX_HUNK_CHARS; kept++) chars += out[kept]!.length + 1;
  if (kept === out.length) return out.join('\n');
  return [...out.slice(0, kept), `[... ${out.length - kept} more lines]`].join('\n');
}

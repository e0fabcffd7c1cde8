/**
 * A base tree on which a sequence of patches applies, reconstructed from the patches alone (we
 * cannot fetch the real upstream here). For each file the pre-image lines (context and removed)
 * are laid out at the line numbers of the hunk headers; hunks of later patches are mapped back
 * through the line shifts of earlier ones; everything else is a unique filler line.
 */

type Entry = { base: number } | { text: string };

interface BaseFile {
  known: Map<number, string>;
  /** The base file ends before this line index (a hunk ended at end of file). */
  end?: number;
  noNewlineAtEnd: boolean;
  executable: boolean;
}

const MAX_LINES = 20000;
const TRAILING_FILLER = 3;

interface FileDiff {
  oldPath?: string;
  newPath?: string;
  oldMode?: string;
  hunks: Array<{ oldStart: number; oldCount: number; lines: string[] }>;
}

/** The file sections of a unified git diff. */
export function parseDiff(diff: string): FileDiff[] {
  const files: FileDiff[] = [];
  const lines = diff.split('\n');
  let cur: FileDiff | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const git = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
    if (git) {
      cur = { oldPath: git[1], newPath: git[2], hunks: [] };
      files.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line === 'GIT binary patch') throw new Error(`binary patch for ${cur.newPath}: cannot reconstruct its base`);
    if (line.startsWith('new file mode')) cur.oldPath = undefined;
    else if (line.startsWith('deleted file mode ')) {
      cur.newPath = undefined;
      cur.oldMode = line.slice('deleted file mode '.length);
    } else if (line.startsWith('old mode ')) cur.oldMode = line.slice('old mode '.length);
    else if (line.startsWith('index ') && / \d{6}$/.test(line)) cur.oldMode ??= line.slice(-6);
    else if (line.startsWith('rename from ')) cur.oldPath = line.slice('rename from '.length);
    else if (line.startsWith('rename to ')) cur.newPath = line.slice('rename to '.length);
    const h = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line);
    if (h) {
      const hunk = { oldStart: Number(h[1]), oldCount: h[2] === undefined ? 1 : Number(h[2]), lines: [] as string[] };
      let oldLeft = hunk.oldCount;
      let newLeft = Number(/\+\d+(?:,(\d+))?/.exec(line)![1] ?? 1);
      while (oldLeft > 0 || newLeft > 0 || lines[i + 1]?.startsWith('\\')) {
        const l = lines[++i]!;
        hunk.lines.push(l);
        if (l.startsWith(' ') || l === '') (oldLeft--, newLeft--);
        else if (l.startsWith('-')) oldLeft--;
        else if (l.startsWith('+')) newLeft--;
      }
      cur.hunks.push(hunk);
    }
  }
  return files;
}

/** Files (path → content, executable) of a base on which all `diffs` apply in order. */
export function reconstructBase(diffs: string[]): Map<string, { content: string; executable: boolean }> {
  const bases = new Map<string, BaseFile>();
  const models = new Map<string, { basePath?: string; lines: Entry[] }>();
  const modelFor = (path: string, mode?: string) => {
    let m = models.get(path);
    if (!m) {
      if (bases.has(path)) throw new Error(`${path}: deleted and touched again`);
      bases.set(path, { known: new Map(), noNewlineAtEnd: false, executable: mode === '100755' });
      m = { basePath: path, lines: Array.from({ length: MAX_LINES }, (_, i) => ({ base: i })) };
      models.set(path, m);
    }
    return m;
  };
  for (const diff of diffs) {
    for (const f of parseDiff(diff)) {
      const model = f.oldPath === undefined ? { lines: [] as Entry[] } : modelFor(f.oldPath, f.oldMode);
      if (f.oldPath !== undefined) models.delete(f.oldPath);
      const base = model.basePath === undefined ? undefined : bases.get(model.basePath);
      let delta = 0;
      for (const hunk of f.hunks) {
        let idx = (hunk.oldCount === 0 ? hunk.oldStart : hunk.oldStart - 1) + delta;
        let trailing = 0;
        let last: Entry | undefined;
        for (const l of hunk.lines) {
          const text = l.slice(1);
          if (l.startsWith('\\')) {
            if (last && 'base' in last && base) base.noNewlineAtEnd = true;
            continue;
          }
          if (l.startsWith('+')) {
            model.lines.splice(idx++, 0, { text });
            delta++;
            trailing = 0;
            last = undefined;
            continue;
          }
          const entry = model.lines[idx];
          if (!entry) throw new Error(`${f.oldPath}: hunk beyond the end of the file`);
          if ('base' in entry) {
            const seen = base!.known.get(entry.base);
            if (seen !== undefined && seen !== text) throw new Error(`${f.oldPath}:${entry.base + 1}: the patches disagree on this line`);
            base!.known.set(entry.base, text);
          } else if (entry.text !== text) throw new Error(`${f.oldPath}: a later patch's context does not match an earlier patch's result`);
          last = entry;
          if (l.startsWith('-')) {
            model.lines.splice(idx, 1);
            delta--;
            trailing = 0;
          } else {
            idx++;
            trailing++;
          }
        }
        // diff -U3 gives fewer than 3 trailing context lines only at the end of the file.
        if (trailing < 3) {
          const dropped = model.lines.slice(idx).find((e): e is { base: number } => 'base' in e);
          if (dropped && base) base.end = Math.min(base.end ?? Infinity, dropped.base);
          model.lines.length = idx;
        }
      }
      if (f.newPath !== undefined) models.set(f.newPath, model);
    }
  }
  const files = new Map<string, { content: string; executable: boolean }>();
  for (const [path, b] of bases) {
    const length = b.end ?? Math.max(-1, ...b.known.keys()) + 1 + TRAILING_FILLER;
    const lines = Array.from({ length }, (_, i) => b.known.get(i) ?? `filler ${path} line ${i + 1}`);
    files.set(path, { content: lines.join('\n') + (b.noNewlineAtEnd || length === 0 ? '' : '\n'), executable: b.executable });
  }
  return files;
}

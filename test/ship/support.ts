import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every path under `dir` with its size and mtime: what a command wrote there shows up. */
export function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    })
    .sort();
}

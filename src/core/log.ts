import { redact } from './secrets.js';

/** Step output: human lines on stderr (stdout stays free for machine output such as `inspect`). Secrets are redacted. */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

export function createLogger(opts: { quiet?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const out = opts.stream ?? process.stderr;
  return {
    info(line) {
      if (!opts.quiet) out.write(redact(line) + '\n');
    },
    warn(line) {
      out.write(redact(`warning: ${line}`) + '\n');
    },
  };
}

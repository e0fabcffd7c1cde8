import cliProgress from 'cli-progress';

/** Progress of long work (per message, per patch, per build): a bar on a TTY, silent otherwise. */
export interface Progress {
  /** One item done; `label` names it (a subject, a patch, a platform). */
  tick(label?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = { tick() {}, setTotal() {}, stop() {} };

export function createProgress(title: string, total = 0, opts: { stream?: NodeJS.WriteStream; enabled?: boolean } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? (stream.isTTY === true && process.env.CI === undefined);
  if (!enabled) return silent;
  const bar = new cliProgress.SingleBar(
    { stream, format: `${title} [{bar}] {value}/{total} {label}`, hideCursor: true, clearOnComplete: false, fps: 10, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  let value = 0;
  return {
    tick(label = '') {
      value += 1;
      if (value > bar.getTotal()) bar.setTotal(value);
      bar.update(value, { label: label.length > 40 ? label.slice(0, 39) + '…' : label });
    },
    setTotal(n) {
      bar.setTotal(n);
    },
    stop() {
      bar.stop();
    },
  };
}

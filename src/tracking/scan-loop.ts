import type { LoadedConfig } from '../core/config.js';
import { asPatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { scanTracking } from './scan.js';

export interface ScanLoop {
  /** No further scan; resolves when the running one (if any) has ended. */
  stop(): Promise<void>;
}

/**
 * `patchline serve` with tracking.scanInterval > 0: a scan every interval seconds, counted from the
 * end of the previous one, so two never overlap here (the items' own lock guards against a cron scan).
 */
export function startScanLoop(loaded: LoadedConfig, log: Logger, intervalSeconds: number): ScanLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const scanOnce = async (): Promise<void> => {
    try {
      const summary = await scanTracking(loaded, { log });
      const counts = new Map<string, number>();
      for (const i of summary.items) counts.set(i.outcome, (counts.get(i.outcome) ?? 0) + 1);
      log.info(`scan: ${summary.items.length} item(s)${[...counts].map(([o, n]) => `, ${n} ${o}`).join('')}`);
    } catch (err) {
      log.warn(`scan failed: ${asPatchlineError(err).toLine()}`);
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = scanOnce().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalSeconds * 1000);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

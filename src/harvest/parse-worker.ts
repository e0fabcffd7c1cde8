/**
 * The parse worker: examines each message the harvest reads (headers, key, full parse) and
 * stages the archive files of patches and covers, on its own core while the main thread fetches.
 * Protocol: {@link ExamineRequest} in, {@link ExamineReply} out, in any order (matched by seq).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { examineMessage } from './examine.js';
import type { ExamineReply, ExamineRequest, WorkerSetup } from './parse-pool.js';
import { stageMessage } from './staging.js';

const setup = workerData as WorkerSetup;
const patterns = new Map<string, RegExp>();

function patternOf(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  let re = patterns.get(source);
  if (!re) patterns.set(source, (re = new RegExp(source)));
  return re;
}

parentPort!.on('message', (req: ExamineRequest) => {
  const raw = Buffer.from(req.raw);
  const { facts, extraction } = examineMessage(raw, { subjectPattern: patternOf(req.pattern), maxBytes: setup.maxBytes });
  let reply: ExamineReply = { seq: req.seq, facts };
  if (extraction && setup.stageRoot !== undefined) {
    try {
      const staged = stageMessage(setup.stageRoot, req.seq, raw, facts, extraction, setup.config);
      if (staged) reply = { seq: req.seq, facts: { ...facts, staged } };
    } catch (err) {
      // staging is a head start only: the harvest writes whatever was not staged itself
      reply = { seq: req.seq, facts, stageError: (err as Error).message };
    }
  }
  parentPort!.postMessage(reply);
});

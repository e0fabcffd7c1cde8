/**
 * The parse worker: examines each message the harvest reads (headers, key, full parse) and
 * stages the archive files of patches and covers, on its own core while the main thread fetches.
 * Protocol: {@link ExamineRequest} in, {@link ExamineReply} out, in any order (matched by seq).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { examineMessage, subjectPatternOf } from './examine.js';
import type { ExamineReply, ExamineRequest, WorkerSetup } from './parse-pool.js';
import { stageMessage } from './staging.js';

const setup = workerData as WorkerSetup;

parentPort!.on('message', (req: ExamineRequest) => {
  const raw = Buffer.from(req.raw);
  const { facts, extraction } = examineMessage(raw, { subjectPattern: subjectPatternOf(req.pattern), maxBytes: setup.maxBytes });
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

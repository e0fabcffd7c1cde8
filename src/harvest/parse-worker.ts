/**
 * The parse worker: examines each message the harvest reads (headers, key, full parse) and
 * stages the archive files of patches and covers, on its own core while the main thread fetches.
 * Protocol: arrays of {@link ExamineRequest} in, arrays of {@link ExamineReply} out, matched by seq.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { examineMessage, subjectPatternOf } from './examine.js';
import { BATCH, type ExamineReply, type ExamineRequest, type WorkerSetup } from './parse-pool.js';
import { stageMessage } from './staging.js';

const setup = workerData as WorkerSetup;

/** Replies not posted yet: sent together when BATCH are waiting or this turn of the event loop ends. */
let replies: ExamineReply[] = [];

function examine(req: ExamineRequest): ExamineReply {
  const raw = Buffer.from(req.raw);
  const { facts, extraction } = examineMessage(raw, { subjectPattern: subjectPatternOf(req.pattern), maxBytes: setup.maxBytes });
  if (!extraction || setup.stageRoot === undefined) return { seq: req.seq, facts };
  try {
    const staged = stageMessage(setup.stageRoot, req.seq, raw, facts, extraction, setup.config);
    if (staged) facts.staged = staged;
    return { seq: req.seq, facts };
  } catch (err) {
    // staging is a head start only: the harvest writes whatever was not staged itself
    return { seq: req.seq, facts, stageError: (err as Error).message };
  }
}

function post(): void {
  if (replies.length === 0) return;
  parentPort!.postMessage(replies);
  replies = [];
}

parentPort!.on('message', (batch: ExamineRequest[]) => {
  if (replies.length === 0) setImmediate(post);
  for (const req of batch) {
    replies.push(examine(req));
    if (replies.length >= BATCH) post();
  }
});

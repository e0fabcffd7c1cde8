/**
 * The parse worker: examines each message the harvest reads (headers, key, full parse) and
 * stages the archive files of patches and covers, on its own core while the main thread fetches.
 * Protocol: arrays of {@link ExamineRequest} in, arrays of {@link ExamineReply} out, matched by seq;
 * after the fetch, chunks of {@link PlaceRequest} (its share of the series directories), the last
 * answered by a {@link PlaceReply}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { placeSeriesDir } from './archive.js';
import { examineMessage, subjectPatternOf } from './examine.js';
import { BATCH, CLAIM, claim, type ExamineReply, type ExamineRequest, type PlaceReply, type PlaceRequest, type WorkerSetup } from './parse-pool.js';
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

/** A job failed here in this round of placing: the worker leaves the rest to the main thread. */
let placingFailed = false;

/** This thread's share of a chunk of series directories (see ExaminePool.placing); answers after the last chunk. */
function place({ stateDir, claims: shared, first, jobs, last }: PlaceRequest['place']): void {
  const claims = new Int32Array(shared);
  for (let i = 0; i < jobs.length && !placingFailed; i++) {
    if (!claim(claims, first + i, CLAIM.worker)) continue;
    try {
      placeSeriesDir(stateDir, jobs[i]!);
    } catch {
      placingFailed = true; // left claimed: the main thread does it again and reports the error
      break;
    }
    Atomics.store(claims, first + i, CLAIM.workerDone);
  }
  if (!last) return;
  placingFailed = false;
  parentPort!.postMessage({ placed: true } satisfies PlaceReply);
}

parentPort!.on('message', (batch: ExamineRequest[] | PlaceRequest) => {
  if (!Array.isArray(batch)) return place(batch.place);
  if (replies.length === 0) setImmediate(post);
  for (const req of batch) {
    replies.push(examine(req));
    if (replies.length >= BATCH) post();
  }
});

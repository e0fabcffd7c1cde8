/**
 * bench:koji — XML-RPC requests per poll when watching 50 running tasks for 10 polls, against
 * the test hub, next to what koji's own CLI sends for the same (from the recorded
 * ../shared/koji-fixtures/cli-build-wait/: getTaskInfo + getTaskChildren per running task).
 * Target: 1 request per poll.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKojiProfile } from '../src/koji/profile.js';
import { KojiSession } from '../src/koji/session.js';
import { watchTasks } from '../src/koji/watch.js';
import { FIXTURES, KojiHub } from '../test/support/koji-hub.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const TASKS = 50;
const POLLS = 10;
/** The CLI's polls in the recording (README: files 07–08 poll 1, 09–12 poll 2, 13–18 poll 3, 19–25 poll 4). */
const CLI_POLLS = [
  [7, 8],
  [9, 12],
  [13, 18],
  [19, 25],
];

/** Task-watching requests per running task in each recorded CLI poll. */
function cliRequestsPerTask(): number[] {
  const dir = join(FIXTURES, 'cli-build-wait');
  const files = readdirSync(dir).sort();
  const ratios = CLI_POLLS.map(([from, to]) => {
    const calls = files
      .filter((f) => Number(f.slice(0, 2)) >= from! && Number(f.slice(0, 2)) <= to!)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .map((t) => ({ method: /<methodName>(\w+)<\/methodName>/.exec(t)![1]!, task: /<value><int>(\d+)<\/int><\/value>/.exec(t)?.[1] }))
      .filter((c) => c.method === 'getTaskInfo' || c.method === 'getTaskChildren');
    const running = new Set(calls.filter((c) => c.method === 'getTaskInfo').map((c) => c.task)).size;
    return calls.length / running;
  });
  return ratios;
}

async function main(): Promise<void> {
  const hub = await new KojiHub().start();
  const dir = mkdtempSync(join(tmpdir(), 'patchline-bench-koji-'));
  try {
    const ini = join(dir, 'koji.conf');
    writeFileSync(ini, `[bench]\nserver = ${hub.url}\nauthtype = password\nuser = bench\n`);
    const session = new KojiSession({ profile: loadKojiProfile('bench', [ini]), retries: 0 });
    const ids = hub.seedRunningTasks(TASKS);
    const before = hub.requests.length;
    const t0 = performance.now();
    await watchTasks(session, ids, { pollIntervalMs: 1, maxPolls: POLLS, onChange: () => undefined });
    const ms = performance.now() - t0;
    const ours = (hub.requests.length - before) / POLLS;
    const callsPerPoll = hub.requests.slice(before).reduce((n, r) => n + r.methods.length, 0) / POLLS;
    const recorded = cliRequestsPerTask();
    // Poll 1 is the one where only the build task itself runs: 2 requests for it.
    const perTask = recorded[0]!;
    const cli = perTask * TASKS;
    console.log(`watch ${TASKS} running tasks, ${POLLS} polls`);
    console.log(`  patchline: ${ours} XML-RPC request(s) per poll (one multiCall of ${callsPerPoll} calls), ${(ms / POLLS).toFixed(1)} ms per poll on the test hub`);
    console.log(`  koji CLI : ${cli} requests per poll (${perTask} per running task in poll 1 of cli-build-wait/; all recorded polls: ${recorded.map((r) => r.toFixed(2)).join(', ')} per task)`);
    console.log(`  ratio    : ${(cli / ours).toFixed(0)}x fewer requests; target 1 request per poll: ${ours === 1 ? 'met' : 'NOT met'}`);
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

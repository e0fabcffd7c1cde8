/**
 * The resume test harness (test/run/kill, outage and concurrent), driven only through the
 * command line: a generated project on loopback, runs that can be killed, and the end state they
 * leave. Environment:
 *   PATCHLINE_KILL_POINTS       kill points of kill.test (default 6)
 *   PATCHLINE_CONCURRENT_TRIES  tries of concurrent.test (default 3)
 *   PATCHLINE_SEED              replay the seed a run printed
 *   PATCHLINE_CLI               the cli.js under test (default this tree's dist/src/cli.js), e.g.
 *                               a build of another commit to compare
 *   KEEP_RESUME_PROJECTS=1      keep the projects' temp dirs for a look
 *   PATCHLINE_TEST_NO_MOUNT=1   the disk-full outage simulated even where mount is allowed
 */
export { makeProject, BRANCHES, PLATFORMS, type Project, type ProjectOptions } from './project.js';
export { runPatchline, internalErrors, expectExit, explainRuns, type PatchlineRun, type RunControl, type StderrLine } from './spawn.js';
export { endState, differences, normalizeSubject, rebuilds, type CompareOptions, type EndState, type MailCount } from './end-state.js';
export { seriesSpecs, type SeriesSpec, type Workload } from './workload.js';

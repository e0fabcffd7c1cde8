import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import Jenkins, { type BuildInfo } from 'jenkins';
import type { LoadedConfig } from '../core/config.js';
import { ExitCode, PatchlineError } from '../core/errors.js';
import { RESOURCES_DIR } from '../core/paths.js';
import { readSecret } from '../core/secrets.js';

/** Where the job lives and how to reach Jenkins: the config's `jenkins:` with JENKINS_URL/USER/API_TOKEN winning. */
export interface JenkinsTarget {
  url: string;
  job: string;
  user?: string;
  token?: string;
}

export function jenkinsTarget(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): JenkinsTarget {
  const section = loaded.config.jenkins ?? {};
  const url = env.JENKINS_URL || section.url;
  if (!url) throw new PatchlineError('ECONFIG', 'no Jenkins URL: set JENKINS_URL or jenkins.url in the config', { input: loaded.file });
  const user = env.JENKINS_USER || section.user;
  const tokenRef = section.token ?? { env: 'JENKINS_API_TOKEN' };
  const token = user ? readSecret(tokenRef, 'jenkins.token (the API token of the Jenkins user)', loaded.baseDir, env) : undefined;
  return { url: url.replace(/\/+$/, ''), job: section.job ?? 'patchline', user, token };
}

export function jenkinsClient(target: JenkinsTarget): Jenkins {
  const headers: Record<string, string> = {};
  if (target.user && target.token) headers.authorization = `Basic ${Buffer.from(`${target.user}:${target.token}`).toString('base64')}`;
  return new Jenkins({ baseUrl: target.url, headers, crumbIssuer: true });
}

/** The job's config.xml: Pipeline from SCM (this repo's Jenkinsfile), parameters, nightly trigger, no concurrent builds. */
export function renderJobXml(loaded: LoadedConfig): string {
  const scm = loaded.config.jenkins?.scm;
  if (!scm) throw new PatchlineError('ECONFIG', 'jenkins.scm.url is needed to create the job: the git URL of the repo holding the Jenkinsfile and your patchline.yaml', { input: loaded.file });
  const template = Handlebars.compile(readFileSync(join(RESOURCES_DIR, 'jenkins', 'config.xml.hbs'), 'utf8'), { strict: false });
  return template({ scmUrl: scm.url, branch: scm.branch ?? 'main', credentialsId: scm.credentialsId, configPath: loaded.config.jenkins?.configPath ?? 'patchline.yaml' });
}

function jenkinsError(err: unknown, what: string, target: JenkinsTarget): PatchlineError {
  if (err instanceof PatchlineError) return err;
  const e = err as { statusCode?: number; message?: string };
  const status = e.statusCode ? ` (HTTP ${e.statusCode})` : '';
  return new PatchlineError('EJENKINS', `${what}${status}: ${e.message ?? String(err)}`, { input: `${target.url} job ${target.job}` });
}

/** Create the job, or update its config.xml when it exists. */
export async function installJob(client: Jenkins, target: JenkinsTarget, xml: string): Promise<'created' | 'updated'> {
  try {
    if (await client.job.exists(target.job)) {
      await client.job.config(target.job, xml);
      return 'updated';
    }
    await client.job.create(target.job, xml);
    return 'created';
  } catch (err) {
    throw jenkinsError(err, 'cannot create or update the job', target);
  }
}

export interface BuildRequest {
  repo?: string;
  branch?: string;
  dryRun?: boolean;
  scratch?: boolean;
  config?: string;
}

/** The job parameters of a build request: only what was asked, Jenkins fills in the defaults. */
export function buildParameters(req: BuildRequest): Record<string, string> {
  const p: Record<string, string> = {};
  if (req.repo) p.REPO = req.repo;
  if (req.branch) p.BRANCH = req.branch;
  if (req.dryRun) p.DRY_RUN = 'true';
  if (req.scratch) p.SCRATCH = 'true';
  if (req.config) p.CONFIG = req.config;
  return p;
}

/** Queue a build and wait until it leaves the queue; returns its number. */
export async function triggerBuild(client: Jenkins, target: JenkinsTarget, req: BuildRequest, pollMs = 1000): Promise<{ number: number; url: string }> {
  try {
    const queued = await client.job.build({ name: target.job, parameters: buildParameters(req) });
    for (;;) {
      const item = await client.queue.item(queued);
      if (item.executable) return item.executable;
      if (item.cancelled) throw new PatchlineError('EJENKINS', `the queued build was cancelled`, { input: `${target.url} queue item ${queued}` });
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } catch (err) {
    throw jenkinsError(err, 'cannot trigger a build', target);
  }
}

/** Copy the console log of a build to `out` until the build ends. */
export async function followLog(client: Jenkins, target: JenkinsTarget, number: number, out: NodeJS.WritableStream, pollMs = 1000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const stream = client.build.logStream({ name: target.job, number, delay: pollMs });
    stream.on('data', (text: string) => out.write(text));
    stream.on('error', (err: unknown) => reject(jenkinsError(err, `cannot read the log of build ${number}`, target)));
    stream.on('end', () => resolve());
  });
}

export async function buildInfo(client: Jenkins, target: JenkinsTarget, number?: number): Promise<BuildInfo | undefined> {
  try {
    const n = number ?? (await client.job.get(target.job)).lastBuild?.number;
    return n === undefined ? undefined : await client.build.get(target.job, n);
  } catch (err) {
    throw jenkinsError(err, 'cannot read the build status', target);
  }
}

/** A finished build's result as a patchline exit code (UNSTABLE = partly failed). */
export function resultCode(result: string | null): ExitCode {
  if (result === 'SUCCESS') return ExitCode.ok;
  if (result === 'UNSTABLE') return ExitCode.partial;
  return ExitCode.failed;
}

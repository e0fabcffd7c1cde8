import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Jenkins cannot be installed here: a loopback HTTP server answers the REST calls the npm `jenkins`
 * client makes (crumb, job exists/create/config, buildWithParameters, queue item, progressive log,
 * build info), and records what it was sent.
 */
interface Recorded {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

function fakeJenkins(opts: { jobExists: boolean; result: string }) {
  const requests: Recorded[] = [];
  let logPolls = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      requests.push({ method: req.method!, path: url.pathname + url.search, body, headers: req.headers });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const p = url.pathname;
      if (p === '/crumbIssuer/api/json') return json(200, { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: 'c123', crumbRequestField: 'Jenkins-Crumb' });
      if (p === '/job/team/job/patchline/api/json' && req.method === 'HEAD') {
        res.writeHead(opts.jobExists ? 200 : 404);
        return res.end();
      }
      if (p === '/job/team/createItem' || p === '/job/team/job/patchline/config.xml') {
        res.writeHead(200);
        return res.end();
      }
      if (p === '/job/team/job/patchline/buildWithParameters') {
        res.writeHead(201, { location: `http://127.0.0.1/queue/item/42/` });
        return res.end();
      }
      if (p === '/queue/item/42/api/json') return json(200, { id: 42, executable: { number: 7, url: 'http://jenkins/job/team/job/patchline/7/' } });
      if (p === '/job/team/job/patchline/7/logText/progressiveText') {
        logPolls += 1;
        const more = logPolls < 2;
        res.writeHead(200, { 'content-type': 'text/plain', 'x-text-size': String(logPolls * 10), ...(more ? { 'x-more-data': 'true' } : {}) });
        return res.end(more ? '[Pipeline] stage Harvest\n' : 'Finished: ' + opts.result + '\n');
      }
      if (p === '/job/team/job/patchline/api/json') return json(200, { name: 'patchline', url: 'http://jenkins/job/team/job/patchline/', lastBuild: { number: 7, url: 'x' } });
      if (p === '/job/team/job/patchline/7/api/json') return json(200, { number: 7, url: 'http://jenkins/job/team/job/patchline/7/', result: opts.result, building: false, timestamp: Date.UTC(2026, 10, 21, 2, 7), duration: 1000 });
      res.writeHead(404);
      res.end();
    });
  });
  return { server, requests };
}

async function withJenkins<T>(opts: { jobExists: boolean; result: string }, work: (url: string, requests: Recorded[]) => Promise<T>): Promise<T> {
  const { server, requests } = fakeJenkins(opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await work(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests);
  } finally {
    server.close();
  }
}

function config(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pl-jenkins-'));
  const file = join(dir, 'patchline.yaml');
  writeFileSync(
    file,
    [
      'sources: [{ type: mbox, name: m, path: none.mbox }]',
      'repos: { hello: { url: hello.git, branches: [main, stable] } }',
      'jenkins:',
      '  job: team/patchline',
      '  user: ci-bot',
      '  scm: { url: "https://git.example.org/ops/patchline.git", branch: prod, credentialsId: git-ro }',
      '  configPath: ops/patchline.yaml',
    ].join('\n'),
  );
  return file;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/src/cli.js', 'jenkins', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const auth = `Basic ${Buffer.from('ci-bot:tok-3141').toString('base64')}`;

describe('patchline jenkins (against a loopback stand-in for the Jenkins REST API)', () => {
  test('install creates the job with the generated config.xml, authenticated, with the CSRF crumb', async () => {
    await withJenkins({ jobExists: false, result: 'SUCCESS' }, async (url, requests) => {
      const r = await cli(['install', '--config', config()], { JENKINS_URL: url, JENKINS_API_TOKEN: 'tok-3141' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`patchline jenkins: job team/patchline created on ${url}\n`);
      const create = requests.find((q) => q.path.startsWith('/job/team/createItem'))!;
      expect(create.method).toBe('POST');
      expect(create.path).toBe('/job/team/createItem?name=patchline');
      expect(create.headers.authorization).toBe(auth);
      expect(create.headers['jenkins-crumb']).toBe('c123');
      expect(create.headers['content-type']).toMatch(/xml/);
      expect(create.body).toContain('<url>https://git.example.org/ops/patchline.git</url>');
      expect(create.body).toContain('<credentialsId>git-ro</credentialsId>');
      expect(create.body).toContain('<name>*/prod</name>');
      expect(create.body).toContain('<scriptPath>Jenkinsfile</scriptPath>');
      expect(create.body).toContain('<spec>H 2 * * *</spec>');
      expect(create.body).toContain('<org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty/>');
      expect(create.body).toMatch(/<name>CONFIG<\/name>\s*<description>[^<]*<\/description>\s*<defaultValue>ops\/patchline.yaml<\/defaultValue>/);
      expect([...create.body.matchAll(/<name>([A-Z_]+)<\/name>/g)].map((m) => m[1])).toEqual(['REPO', 'BRANCH', 'DRY_RUN', 'SCRATCH', 'CONFIG']);
    });
  });

  test('install updates an existing job', async () => {
    await withJenkins({ jobExists: true, result: 'SUCCESS' }, async (url, requests) => {
      const r = await cli(['install', '--config', config()], { JENKINS_URL: url, JENKINS_API_TOKEN: 'tok-3141' });
      expect(r.stdout).toMatch(/job team\/patchline updated/);
      expect(requests.filter((q) => q.method === 'POST').map((q) => q.path)).toEqual(['/job/team/job/patchline/config.xml']);
    });
  });

  test('build of one branch sends exactly its parameters, follows the log and exits with the result (UNSTABLE = 3)', async () => {
    await withJenkins({ jobExists: true, result: 'UNSTABLE' }, async (url, requests) => {
      const r = await cli(['build', '--config', config(), '--repo', 'hello', '--branch', 'stable', '--follow', '--poll-interval', '0.05'], { JENKINS_URL: url, JENKINS_API_TOKEN: 'tok-3141' });
      const trigger = requests.find((q) => q.path.startsWith('/job/team/job/patchline/build'))!;
      expect(trigger.method).toBe('POST');
      expect(Object.fromEntries(new URLSearchParams(trigger.body))).toEqual({ REPO: 'hello', BRANCH: 'stable' });
      expect(r.stdout).toBe(
        'patchline jenkins: build #7 started: http://jenkins/job/team/job/patchline/7/\n[Pipeline] stage Harvest\nFinished: UNSTABLE\npatchline jenkins: build #7: UNSTABLE\n',
      );
      expect(r.code).toBe(3);
    });
  });

  test('status prints the last build and exits with its result', async () => {
    await withJenkins({ jobExists: true, result: 'FAILURE' }, async (url) => {
      const r = await cli(['status', '--config', config()], { JENKINS_URL: url, JENKINS_API_TOKEN: 'tok-3141' });
      expect(r.stdout).toBe('patchline jenkins: build #7 FAILURE (2026-11-21T02:07:00.000Z) http://jenkins/job/team/job/patchline/7/\n');
      expect(r.code).toBe(1);
    });
  });

  test('a missing API token is a one-line config error, and the token never shows', async () => {
    const r = await cli(['status', '--config', config()], { JENKINS_URL: 'http://127.0.0.1:9', JENKINS_API_TOKEN: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^patchline: ESECRET jenkins.token .*JENKINS_API_TOKEN is not set/);
  });
});

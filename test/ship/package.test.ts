/**
 * patchline as people install it: the npm tarball (only what runs), `npm install -g` of it into a
 * temporary prefix (dependencies from the registry), and the RPM built from patchline.spec; the
 * installed `patchline` works from anywhere and never writes into its own install dir.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { snapshot } from './support.js';

const ROOT = resolve(process.cwd());
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** What the tarball may hold (under package/): the compiled code, its data, the library, the docs, the demo. */
const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE/, /^dist\/src\/.+\.js$/, /^dist\/steps\/[^/]+\.js$/, /^dist\/schemas\/validators\.cjs$/, /^resources\//, /^vars\//, /^docs\//, /^examples\/demo\/(patchline\.yaml|mail\/|hello\/)/];

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, timeout: 300_000 });
}

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}


/** `patchline demo --dir`, `patchline check` in it and `patchline --version` from an installed copy. */
function expectWorkingInstall(bin: string, installDir: string): void {
  const before = snapshot(installDir);
  expect(ok(run(bin, ['--version'])).trim()).toBe(VERSION);
  const work = mkdtempSync(join(tmpdir(), 'pl-installed-'));
  const demoDir = join(work, 'D');
  const demo = run(bin, ['demo', '--dir', demoDir], { cwd: work });
  expect(demo.stderr).toMatch(/patchline demo: done \(exit 0\)/);
  expect(demo.status).toBe(0);
  expect(readdirSync(join(demoDir, '.work', 'publish', 'demo', 'hello-main', 'Packages')).some((f) => f.endsWith('.noarch.rpm'))).toBe(true);
  // check finds ./patchline.yaml by itself
  const check = run(bin, ['check'], { cwd: demoDir });
  expect([check.status, check.stdout]).toEqual([0, '']);
  expect(check.stderr).toContain(`${join(demoDir, 'patchline.yaml')}: no problems`);
  expect(snapshot(installDir)).toEqual(before);
}

describe('the npm package', () => {
  const out = mkdtempSync(join(tmpdir(), 'pl-pack-'));
  let tarball: string;

  beforeAll(() => {
    ok(run('npm', ['pack', '--ignore-scripts', '--loglevel=warn', '--pack-destination', out]));
    tarball = join(out, `patchline-${VERSION}.tgz`);
  });

  test('holds dist/ (compiled JS, no tests, no bench, no maps), resources/, vars/, docs/, the demo and nothing else', () => {
    const files = ok(run('tar', ['-tzf', tarball])).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files.filter((f) => !ALLOWED.some((re) => re.test(f)))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['dist/src/cli.js', 'dist/steps/harvest.js', 'dist/schemas/validators.cjs', 'resources/schemas/config.schema.json', 'resources/templates/status.css', 'vars/patchlineStep.groovy', 'docs/config.md', 'examples/demo/patchline.yaml']));
    expect(files.length).toBeLessThan(400);
    const cli = ok(run('tar', ['-xzOf', tarball, 'package/dist/src/cli.js']));
    expect(cli.split('\n')[0]).toMatch(/^#!\/usr\/bin\/env (-S )?node\b/);
    expect(ok(run('tar', ['-tvzf', tarball, 'package/dist/src/cli.js']))).toMatch(/^-rwxr-xr-x /);
  });

  test('npm install -g of it into a temporary prefix gives a patchline that works from anywhere', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'pl-prefix-'));
    ok(run('npm', ['install', '-g', tarball, '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=warn']));
    const installed = join(prefix, 'lib', 'node_modules', 'patchline');
    // dependencies only: no dev tools came along
    expect(readdirSync(join(installed, 'node_modules'))).toEqual(expect.arrayContaining(['ajv', 'commander', 'yaml']));
    expect(readdirSync(join(installed, 'node_modules'))).not.toEqual(expect.arrayContaining(['typescript']));
    expectWorkingInstall(join(prefix, 'bin', 'patchline'), installed);
  }, 300_000);

  test('patchline demo without --dir works in ./patchline-demo', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pl-demo-cwd-'));
    const source = join(ROOT, 'examples', 'demo');
    const before = snapshot(source);
    const r = run(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'demo', '-q'], { cwd });
    expect(r.status).toBe(0);
    expect(readdirSync(join(cwd, 'patchline-demo')).sort()).toEqual(expect.arrayContaining(['.work', 'hello', 'mail', 'patchline.yaml']));
    // the source tree's copy of the demo is only read
    expect(snapshot(source)).toEqual(before);
  });
});

describe('the RPM', () => {
  test('patchline.spec builds with rpmbuild from the tarball and an npm ci --omit=dev tree; the installed files run', () => {
    const spec = readFileSync(join(ROOT, 'patchline.spec'), 'utf8');
    expect(/^Version:\s+(\S+)$/m.exec(spec)?.[1]).toBe(VERSION);
    const work = mkdtempSync(join(tmpdir(), 'pl-rpm-'));
    const sources = join(work, 'SOURCES');
    ok(run(join(ROOT, 'scripts', 'rpm-sources.sh'), [sources]));
    // a fast payload: what is tested is the spec, not the compression
    ok(run('rpmbuild', ['-bb', 'patchline.spec', '--define', `_topdir ${work}`, '--define', `_sourcedir ${sources}`, '--define', '_binary_payload w1.gzdio']));
    const rpm = join(work, 'RPMS', 'noarch', `patchline-${VERSION}-1.noarch.rpm`);
    expect(ok(run('rpm', ['-qp', '--requires', rpm])).split('\n')).toEqual(expect.arrayContaining(['nodejs >= 20', 'git-core', 'rpm-build', 'createrepo_c']));
    const files = ok(run('rpm', ['-qlp', rpm])).trim().split('\n');
    expect(files).toEqual(expect.arrayContaining(['/usr/bin/patchline', '/usr/lib/patchline/dist/src/cli.js', '/usr/lib/patchline/node_modules/ajv/package.json', '/usr/lib/patchline/resources/templates/status.css']));
    expect(files.filter((f) => /\/node_modules\/(typescript|jest|ts-jest|playwright-core)\//.test(f) || /^\/usr\/lib\/patchline\/(test|bench|src)\//.test(f))).toEqual([]);

    // what dnf would put on a machine, unpacked into a folder: /usr/bin/patchline is a relative symlink into /usr/lib/patchline
    const root = join(work, 'root');
    mkdirSync(root);
    execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', rpm], { cwd: root });
    expectWorkingInstall(join(root, 'usr', 'bin', 'patchline'), join(root, 'usr', 'lib', 'patchline'));
  }, 600_000);
});

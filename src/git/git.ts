import { spawn, spawnSync } from 'node:child_process';
import { childEnv, TRANSPORT_VARS } from '../core/child-env.js';
import { PatchlineError } from '../core/errors.js';

/** What one git command gave back. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitRunOptions {
  /** Written to git's stdin. */
  input?: string | Buffer;
  /** Extra environment on top of the neutral one (e.g. GIT_COMMITTER_NAME, GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** Return a non-zero exit instead of throwing EGIT. */
  allowFailure?: boolean;
}

// The operator's transport settings pass (ssh, askpass and the user/password Jenkins' gitUsernamePassword
// binding gives it, CA files, tracing); every other GIT_* variable (GIT_DIR, GIT_INDEX_FILE,
// identities, config...) is dropped, and so is anything childEnv() keeps from every tool.
const PASSED_GIT_VARS = new RegExp(`^GIT_(ASKPASS|SSH|SSH_COMMAND|SSH_VARIANT|SSL_CAINFO|SSL_CAPATH|SSL_CERT|SSL_KEY|TRACE\\w*|CURL_VERBOSE|USERNAME|PASSWORD)$|${TRANSPORT_VARS.source}`);

/** Config sections that say how to reach a remote: credential helpers, http settings, url rewrites. */
const TRANSPORT_CONFIG = '^(credential|http|url)\\.';

let transportConfig: Record<string, string> | undefined;

/**
 * The transport sections of the operator's system and global git config (credential helpers of
 * the agent, proxies, CA files, insteadOf), as GIT_CONFIG_COUNT/KEY/VALUE: every git command sees
 * them while the rest of those files (aliases, hooksPath, am/apply/commit settings) stays out.
 * Read once per process; an operator's own GIT_CONFIG_GLOBAL is used whole, so only the system
 * file is read then.
 */
function operatorTransportConfig(): Record<string, string> {
  if (transportConfig) return transportConfig;
  const r = spawnSync('git', ['config', '--show-scope', '-z', '--get-regexp', TRANSPORT_CONFIG], { cwd: '/', env: childEnv({ LC_ALL: 'C' }, PASSED_GIT_VARS), encoding: 'utf8' });
  const scopes = process.env.GIT_CONFIG_GLOBAL ? ['system'] : ['system', 'global'];
  const fields = r.status === 0 ? r.stdout.split('\0') : [];
  const env: Record<string, string> = {};
  let n = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (!scopes.includes(fields[i]!)) continue;
    const entry = fields[i + 1]!;
    const nl = entry.indexOf('\n');
    env[`GIT_CONFIG_KEY_${n}`] = nl < 0 ? entry : entry.slice(0, nl);
    env[`GIT_CONFIG_VALUE_${n}`] = nl < 0 ? 'true' : entry.slice(nl + 1);
    n += 1;
  }
  transportConfig = n === 0 ? {} : { ...env, GIT_CONFIG_COUNT: String(n) };
  return transportConfig;
}

/**
 * A neutral environment: no system config and no ~/.gitconfig surprises but their transport
 * sections (above; HOME stays for ssh keys and known_hosts; an operator can name a whole file in
 * GIT_CONFIG_GLOBAL), C locale so messages parse, nothing that could wait for a person, and no
 * variable of patchline's own or secret (childEnv).
 */
export function neutralGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv(
    {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL || '/dev/null',
      ...operatorTransportConfig(),
      LC_ALL: 'C',
      LANGUAGE: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      GIT_EDITOR: 'false',
      GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
      ...extra,
    },
    PASSED_GIT_VARS,
  );
}

/** Run `git <args>` in `cwd` (args as an array: never through a shell). */
export function runGit(cwd: string, args: readonly string[], opts: GitRunOptions & { baseEnv?: Record<string, string> } = {}): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', args, { cwd, env: neutralGitEnv({ ...opts.baseEnv, ...opts.env }), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new PatchlineError('ETOOL', `cannot run git: ${e.message}`, { input: `git ${args[0] ?? ''}`, cause: e })));
    child.on('close', (code, signal) => {
      const result: GitResult = { code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (result.code === 0 || opts.allowFailure) return resolvePromise(result);
      const why = signal ? `killed by ${signal}` : gitMessage(result) || `exit ${result.code}`;
      const shown = args.length > 6 ? [...args.slice(0, 6), `… (${args.length - 6} more)`] : args;
      reject(new PatchlineError('EGIT', `git ${shown.join(' ')}: ${why}`, { input: cwd, details: { args: [...args], code: result.code, stderr: result.stderr } }));
    });
    child.stdin.on('error', () => {}); // git may exit before reading all of stdin; its exit code tells the story
    child.stdin.end(opts.input ?? '');
  });
}

/** git's own message: its error, fatal, conflict and "Patch failed" lines (stderr and stdout), else its last lines. */
export function gitMessage(result: Pick<GitResult, 'stderr' | 'stdout'>): string {
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const marked = lines.filter((l) => /^(error|fatal|CONFLICT|Patch failed|rejected|! )/.test(l));
  return (marked.length ? marked : lines.slice(-3)).join('; ');
}

/** A repository (or worktree) and the env every command in it gets (e.g. the committer). */
export class Git {
  constructor(
    readonly dir: string,
    private readonly env: Record<string, string> = {},
  ) {}

  run(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
    return runGit(this.dir, args, { ...opts, baseEnv: this.env });
  }

  /** stdout of a command that must succeed, without the trailing newline. */
  async output(args: readonly string[], opts: Omit<GitRunOptions, 'allowFailure'> = {}): Promise<string> {
    return (await this.run(args, opts)).stdout.replace(/\n$/, '');
  }

  /** The full object name of `rev`, or undefined when it does not exist. */
  async revParse(rev: string): Promise<string | undefined> {
    const r = await this.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { allowFailure: true });
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  /** Absolute path of a file in the git dir (`rebase-apply`, `index.lock`), worktree-aware. */
  async gitPath(name: string): Promise<string> {
    return this.output(['rev-parse', '--path-format=absolute', '--git-path', name]);
  }

  /** Commits of `range`, oldest first. */
  async revList(range: string): Promise<string[]> {
    const out = await this.output(['rev-list', '--reverse', range, '--']);
    return out ? out.split('\n') : [];
  }
}

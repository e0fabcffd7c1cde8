/**
 * Types of patchline.yaml. The schema in resources/schemas/config*.schema.json is the source of
 * truth; test/core/config.test.ts checks these types against it with typed example configs.
 */

import type { UpstreamConfig } from '../upstream/config-types.js';
import type { ServeConfig, TrackingConfig } from '../tracking/config-types.js';

export type * from '../upstream/config-types.js';
export type * from '../tracking/config-types.js';

export type SecretRef = { env: string } | { file: string };

export interface Person {
  name: string;
  email: string;
}

interface SourceBase {
  name: string;
  subjectPattern?: string;
  /** Where mail without branch and repo words in its tag goes (one list per repository); a tag naming them wins. */
  route?: { repo: string; branch: string };
}

export interface ImapSourceConfig extends SourceBase {
  type: 'imap';
  host: string;
  port?: number;
  security?: 'tls' | 'starttls' | 'plain';
  mailbox?: string;
  user: string;
  password: SecretRef;
  tlsRejectUnauthorized?: boolean;
}

export interface MboxSourceConfig extends SourceBase {
  type: 'mbox';
  path: string;
  /** mboxo (default: as git am reads an mbox) or mboxrd (`>From ` lines lose one `>`, git mailsplit --mboxrd). */
  format?: 'mboxo' | 'mboxrd';
}

export interface MaildirSourceConfig extends SourceBase {
  type: 'maildir';
  path: string;
}

export type FileSourceConfig = MboxSourceConfig | MaildirSourceConfig;

export type SourceConfig = ImapSourceConfig | FileSourceConfig;

export interface HarvestConfig {
  maxMessageBytes?: number;
  /** A patch whose commit message (the text before its diff) is larger is quarantined (default 1 MiB). */
  maxBodyBytes?: number;
  /** Parse threads (0: parse on the main thread). */
  parseWorkers?: number;
}

/** apply (resources/schemas/config/apply.schema.json). */
export interface ApplyConfig {
  /** Committer of applied commits; the author comes from the mail. */
  committer?: Person;
  threeWay?: boolean;
  /** Staging branch to push to, e.g. `patchline/{branch}/{date}`. */
  pushPattern?: string;
  /** `Link:` trailer pattern with `{messageId}`, instead of git am's `Message-Id:`. */
  linkUrl?: string;
  push?: boolean;
  searchDepth?: number;
  /** When the branch moves: at apply (none), once built (build), once built and tested (test, the default). */
  gate?: 'none' | 'build' | 'test';
  /** Senders whose series are built without a maintainer's approval: addresses, or domains as `@example.org`. */
  trustedSenders?: string[];
}

/** Per-repo overrides of `apply:`. */
export interface RepoApplyConfig {
  threeWay?: boolean;
  pushPattern?: string;
  linkUrl?: string;
  order?: 'arrival' | 'harvest';
  gate?: 'none' | 'build' | 'test';
  /** Added to apply.trustedSenders for this repo. */
  trustedSenders?: string[];
}

/** A test command of a repo, run in the build sandbox over the installed packages. */
export interface TestCommandConfig {
  name: string;
  /** The command as an argument array (no shell), or one string split on spaces. */
  run: string[] | string;
  /** Seconds (default test.timeout). */
  timeout?: number;
}

/** test (the package checks and tests of the test step). */
export interface TestConfig {
  /** Seconds a test command may take (default 300). */
  timeout?: number;
  /** How the packages are installed into a throwaway root: dnf --installroot (with the platform's repos), rpm -i --root, or not at all. */
  install?: 'dnf' | 'rpm' | 'none';
  /** rpmlint on every built RPM (default true). */
  rpmlint?: boolean;
}

/** build (resources/schemas/config/build.schema.json). */
export interface PlatformConfig {
  name: string;
  builder: 'koji' | 'local';
  target?: string;
  profile?: string;
  dist?: string;
  arch?: string;
  mock?: string;
  /** Base yum repos (URLs) the packages are installed against in the test step (dnf --installroot). */
  repos?: string[];
}

export interface BuildConfig {
  kojiConfig?: string;
  kojiProfile?: string;
  kojiPassword?: SecretRef;
  pollInterval?: number;
  scratch?: boolean;
  priority?: number;
  channel?: string;
  submit?: 'srpm' | 'scm';
  scmUrl?: string;
  release?: string;
  version?: 'spec' | 'git-describe';
  packager?: string;
  retries?: number;
  timeout?: number;
  /** Where rpm tools run on a spec from the mail (docs/decisions/build-sandbox.md). */
  sandbox?: 'bwrap' | 'none';
}

export type RepoBuildConfig = ({ spec: string; specFile?: never } | { specFile: string; spec?: never }) & { package?: string };

export interface RepoConfig {
  url: string;
  branches: string[];
  allowedSenders?: string[];
  apply?: RepoApplyConfig;
  build?: RepoBuildConfig;
  report?: RepoReportConfig;
  /** Test commands run over the installed packages (test step). */
  tests?: TestCommandConfig[];
  /** An rpmlintrc for this repo's packages (relative to the config file). */
  rpmlintrc?: string;
}

/** publish (resources/schemas/config/publish.schema.json). */
export interface PublishConfig {
  /** Local path (relative to the config file) or `[user@]host:/path`. */
  destination?: string;
  baseUrl?: string;
  keep?: number;
  /** Each repo's path under the destination: `{platform}`, `{repo}`, `{branch}` (default `{platform}/{repo}-{branch}`). */
  layout?: string;
  /** Repo id in the .repo file; `{platform}`, `{repo}`, `{branch}` are replaced (`/` becomes `-`). */
  repoName?: string;
  rsync?: { options?: string[]; rsh?: string };
}

/** report (resources/schemas/config/report.schema.json). */
export interface ReportConfig {
  templatesDir?: string;
  /** Catch-all recipients. */
  recipients?: string[];
  threadReplies?: boolean;
  /** Also send a series' failure mails to its author (default true; a repo's report.copyAuthor overrides it). */
  copyAuthor?: boolean;
  smtp?: SmtpConfig;
  /** Where to look for a mail whose SMTP transaction was cut off before the server's answer. */
  deliveryCheck?: DeliveryCheckConfig;
}

export interface DeliveryCheckConfig {
  /** Name of an imap source whose mailbox receives the report mails. */
  source: string;
  /** The recipient address whose mail lands there (a list); without it, every report mail is taken to. */
  address?: string;
  waitSeconds?: number;
}

export interface SmtpConfig {
  host: string;
  port?: number;
  security?: 'tls' | 'starttls' | 'plain';
  user?: string;
  password?: SecretRef;
  from: string;
}

export interface RepoReportConfig {
  recipients?: string[];
  /** Also send this repo's failure mails to the series' author (default: report.copyAuthor, else true). */
  copyAuthor?: boolean;
}

/** `jenkins:`: the job `patchline jenkins install|build|status` manages (config/jenkins.schema.json). */
export interface JenkinsConfig {
  url?: string;
  job?: string;
  user?: string;
  token?: SecretRef;
  scm?: { url: string; branch?: string; credentialsId?: string };
  configPath?: string;
}

/** `run:`: `patchline run` and its state-dir lock. */
export interface RunConfig {
  lockWaitSeconds?: number;
  lockStaleSeconds?: number;
}

export interface Config {
  stateDir?: string;
  /** Empty in a config for upstream packaging or tracking only (validateConfig fills it in). */
  sources: SourceConfig[];
  harvest?: HarvestConfig;
  /** Empty in a config for upstream packaging or tracking only. */
  repos: Record<string, RepoConfig>;
  apply?: ApplyConfig;
  platforms?: PlatformConfig[];
  build?: BuildConfig;
  test?: TestConfig;
  publish?: PublishConfig;
  report?: ReportConfig;
  jenkins?: JenkinsConfig;
  run?: RunConfig;
  upstream?: UpstreamConfig;
  tracking?: TrackingConfig;
  serve?: ServeConfig;
}

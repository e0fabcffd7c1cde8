/**
 * Types of patchline.yaml. The schema in resources/schemas/config*.schema.json is the source of
 * truth; test/core/config.test.ts checks these types against it with typed example configs.
 */

export type SecretRef = { env: string } | { file: string };

export interface Person {
  name: string;
  email: string;
}

interface SourceBase {
  name: string;
  subjectPattern?: string;
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

export interface FileSourceConfig extends SourceBase {
  type: 'mbox' | 'maildir';
  path: string;
}

export type SourceConfig = ImapSourceConfig | FileSourceConfig;

export interface HarvestConfig {
  maxMessageBytes?: number;
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
}

/** Per-repo overrides of `apply:`. */
export interface RepoApplyConfig {
  threeWay?: boolean;
  pushPattern?: string;
  linkUrl?: string;
  order?: 'arrival' | 'harvest';
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
}

export type RepoBuildConfig = ({ spec: string; specFile?: never } | { specFile: string; spec?: never }) & { package?: string };

export interface RepoConfig {
  url: string;
  branches: string[];
  allowedSenders?: string[];
  apply?: RepoApplyConfig;
  build?: RepoBuildConfig;
  report?: RepoReportConfig;
}

/** publish (resources/schemas/config/publish.schema.json). */
export interface PublishConfig {
  /** Local path (relative to the config file) or `[user@]host:/path`. */
  destination?: string;
  baseUrl?: string;
  keep?: number;
  /** Repo id in the .repo file; `{platform}` is replaced. */
  repoName?: string;
  rsync?: { options?: string[]; rsh?: string };
}

/** report (resources/schemas/config/report.schema.json). */
export interface ReportConfig {
  templatesDir?: string;
  /** Catch-all recipients. */
  recipients?: string[];
  threadReplies?: boolean;
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
  sources: SourceConfig[];
  harvest?: HarvestConfig;
  repos: Record<string, RepoConfig>;
  apply?: ApplyConfig;
  platforms?: PlatformConfig[];
  build?: BuildConfig;
  publish?: PublishConfig;
  report?: ReportConfig;
  jenkins?: JenkinsConfig;
  run?: RunConfig;
}

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
  apply?: Record<string, unknown>;
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

export interface Config {
  stateDir?: string;
  sources: SourceConfig[];
  harvest?: HarvestConfig;
  repos: Record<string, RepoConfig>;
  apply?: Record<string, unknown>;
  platforms?: PlatformConfig[];
  build?: BuildConfig;
  publish?: PublishConfig;
  report?: ReportConfig;
  jenkins?: Record<string, unknown>;
  run?: Record<string, unknown>;
}

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

export interface RepoConfig {
  url: string;
  branches: string[];
  allowedSenders?: string[];
  apply?: Record<string, unknown>;
  build?: Record<string, unknown>;
  report?: Record<string, unknown>;
}

export interface Config {
  stateDir?: string;
  sources: SourceConfig[];
  harvest?: HarvestConfig;
  repos: Record<string, RepoConfig>;
  apply?: Record<string, unknown>;
  platforms?: unknown[];
  build?: Record<string, unknown>;
  publish?: Record<string, unknown>;
  report?: Record<string, unknown>;
  jenkins?: Record<string, unknown>;
  run?: Record<string, unknown>;
}

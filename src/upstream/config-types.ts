/** `upstream:` in patchline.yaml (resources/schemas/config/upstream.schema.json is the truth). */
export interface UpstreamProjectConfig {
  /** Upstream git URL (relative paths from the config file). */
  upstream: string;
  branch?: string;
  /** The dist-git repo holding the spec. */
  distgit: string;
  distgitBranch?: string;
  /** Path of the spec in the dist-git. */
  spec: string;
  /** Names from `platforms:` (default: every platform). */
  platforms?: string[];
  maintainers?: string[];
  enabled?: boolean;
  /** Version from the spec (default: build.version) or from `git describe` of the upstream commit. */
  version?: 'spec' | 'git-describe';
}

export interface UpstreamConfig {
  projects: Record<string, UpstreamProjectConfig>;
  maxRetries?: number;
  retryPatterns?: string[];
  /** Retention of per-commit repos, e.g. { days: 14 } or { builds: 500 }. */
  keep?: { days?: number; builds?: number };
  /** e.g. https://github.com/{project}/commit/{sha} */
  commitUrl?: string;
}

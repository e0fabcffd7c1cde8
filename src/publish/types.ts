/** publish.json (resources/schemas/publish.schema.json): per platform, the yum repo that serves. */

export interface PublishedPackage {
  name: string;
  version: string;
  release: string;
  arch: string;
  /** File name inside the repo dir. */
  file: string;
  url: string;
  /** The series it was built from (kept from the run that first published it). */
  seriesId: string;
  /** When it entered the repo (ISO date). */
  publishedAt: string;
}

export interface PublishedRepo {
  platform: string;
  /** The repo/branch it serves (publish.layout); absent in publish.json of runs before repos per branch. */
  repo?: string;
  branch?: string;
  /** Its path under the destination (publish.layout), e.g. `el9/qemu-master`. */
  key?: string;
  /** published: a new generation serves; failed: the previous one (if any) still serves. */
  status: 'published' | 'failed';
  /** The path the web server serves (the switched symlink), local or `host:/path`. */
  path: string;
  url: string;
  /** URL of the .repo file (for `dnf config-manager --add-repo`). */
  repoFileUrl: string;
  /** The generation dir serving now (`<key>.<run-id>`, relative to the destination), absent when nothing was ever published. */
  generation?: string;
  /** Every package the serving repo holds. */
  packages: PublishedPackage[];
  /** Packages this run added. */
  added: string[];
  error?: { code: string; message: string; input?: string };
}

export interface PublishResult {
  runId?: string;
  destination?: string;
  repos: PublishedRepo[];
}

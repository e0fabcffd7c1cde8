/**
 * Upstream tracking (issue 16, DESIGN.md "Tracking"): tracking items, review records, and the
 * backend the CLI talks to (the local state dir, or a `patchline serve` over HTTP).
 */

/** One tracked upstream branch -> one packaging branch. Keyed by (repo, branch). */
export interface TrackingItem {
  /** The packaging repo's name: the repo word of the review mails' subjects (a `repos:` key for the loop to close). */
  repo: string;
  /** The packaging branch. */
  branch: string;
  /** Git URL of the packaging repo (dist-git with the spec). */
  packagingUrl: string;
  /** Path of the spec in the packaging repo. */
  spec: string;
  /** Git URL of the upstream repo. */
  upstreamUrl: string;
  upstreamBranch: string;
  enabled: boolean;
  /** The last upstream commit processed; absent = start at the upstream head when first scanned. */
  lastCommit?: string;
  /** ISO 8601 UTC. */
  createdAt?: string;
  updatedAt?: string;
}

/** What `track add`/POST /tracking take (the YAML keys; resources/schemas/tracking-item.schema.json). */
export type TrackingItemInput = Omit<TrackingItem, 'createdAt' | 'updatedAt' | 'enabled'> & { enabled?: boolean };

export type ReviewState = 'preparing' | 'pushed' | 'mailed' | 'failed';

export interface ReviewRecord {
  /** `<repo>/<branch>/<from sha[0:12]>..<to sha[0:12]>`: one review per upstream range, ever. */
  id: string;
  repo: string;
  branch: string;
  /** Upstream range: commits after `from` up to and including `to` (first-parent). */
  range: { from: string; to: string; commits: number };
  /** patch-tracking/<branch>/<UTC timestamp> */
  trackingBranch: string;
  /** Message-ID of the cover letter. */
  coverMessageId?: string;
  state: ReviewState;
  /** When failed: which patch did not apply and why. */
  failure?: { patch?: string; message: string };
  /** The packaging branch commit the tracking branch started from (a failed range is tried again once the packaging branch moves). */
  packagingBase?: string;
  /** The patch files added, in order (`NNNN-<slug>.patch`). */
  patches?: string[];
  /** Mails of the review series: how many, how many the SMTP server took. */
  mails?: { total: number; sent: number };
  createdAt: string;
  updatedAt: string;
}

/** Where the CLI's track subcommands act: the local state (items store) or a server (src/tracking/client.ts). */
export interface TrackingBackend {
  list(filter?: { repo?: string; branch?: string }): Promise<TrackingItem[]>;
  add(item: TrackingItemInput): Promise<TrackingItem>;
  remove(key: { repo: string; branch: string }): Promise<void>;
  setEnabled(key: { repo: string; branch: string }, enabled: boolean): Promise<TrackingItem>;
  reviews(): Promise<ReviewRecord[]>;
}

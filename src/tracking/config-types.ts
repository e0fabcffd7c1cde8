/** `tracking:` and `serve:` in patchline.yaml (resources/schemas/config/tracking.schema.json, config/serve.schema.json). */
export interface TrackingConfig {
  /** Where review series are mailed (the list patchline harvests). */
  reviewTo: string[];
  reviewFrom?: string;
  /** A link to a pushed branch, e.g. https://git.example.com/{repo}/log/?h={branch} */
  branchUrl?: string;
  /** `patchline serve` scans every this many seconds (0 or absent: never). */
  scanInterval?: number;
}

export interface ServeUser {
  name: string;
  /** From `patchline passwd`: scrypt$N$r$p$salt$hash */
  passwordHash: string;
}

export interface ServeConfig {
  /** host:port; plain HTTP only on loopback. */
  listen?: string;
  cert?: string;
  key?: string;
  users?: ServeUser[];
  maxBodyBytes?: number;
  /** Requests per minute per client address. */
  rateLimit?: number;
}

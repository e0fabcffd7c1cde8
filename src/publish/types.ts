/** publish.json (resources/schemas/publish.schema.json). Owned by the publish stage; extend with the schema. */
export interface PublishResult {
  repos: Array<{ platform: string; path: string; url: string; packages: unknown[] }>;
}

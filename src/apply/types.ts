/** apply.json (resources/schemas/apply.schema.json). Owned by the apply stage; extend with the schema. */
export interface ApplyResult {
  series: Array<{
    id: string;
    status: 'applied' | 'already-applied' | 'failed';
    baseCommit?: string;
    commits: Array<{ sha: string; messageId: string }>;
    failure?: { patch: unknown; files: string[]; message: string };
  }>;
}

/** build.json (resources/schemas/build.schema.json). Owned by the build stage; extend with the schema. */
export interface BuildResult {
  builds: Array<{
    seriesId: string;
    platform: string;
    builder: 'koji' | 'local';
    state: string;
    taskId?: number;
    url?: string;
    nvr?: string;
    rpms: string[];
    logs: string[];
  }>;
}

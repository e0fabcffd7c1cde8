// The slice of the npm `jenkins` client (1.x, no types published) patchline uses.
declare module 'jenkins' {
  import type { EventEmitter } from 'node:events';

  interface JenkinsOptions {
    baseUrl: string;
    headers?: Record<string, string>;
    crumbIssuer?: boolean;
  }

  export interface BuildInfo {
    number: number;
    url: string;
    result: string | null;
    building: boolean;
    timestamp: number;
    duration: number;
  }

  export interface JobInfo {
    name: string;
    url: string;
    lastBuild: { number: number; url: string } | null;
    inQueue: boolean;
  }

  export default class Jenkins {
    constructor(opts: JenkinsOptions);
    job: {
      exists(name: string): Promise<boolean>;
      create(name: string, xml: string): Promise<void>;
      config(name: string, xml: string): Promise<void>;
      build(opts: { name: string; parameters?: Record<string, string> }): Promise<number>;
      get(name: string): Promise<JobInfo>;
    };
    queue: {
      item(number: number): Promise<{ id: number; executable?: { number: number; url: string }; cancelled?: boolean; why?: string | null }>;
    };
    build: {
      get(name: string, number: number): Promise<BuildInfo>;
      logStream(opts: { name: string; number: number; delay?: number }): EventEmitter;
    };
  }
}

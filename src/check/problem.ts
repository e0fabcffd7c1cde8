/** One thing `patchline check` found that a run would trip over. */
export interface CheckProblem {
  /** The dotted config path it is about (`repos.hello.build.spec`), or the file; empty when the message names it. */
  where: string;
  message: string;
}

export function describeCheckProblem(p: CheckProblem): string {
  return `${p.where ? `${p.where}: ` : ''}${p.message}`.replace(/[\r\n]+/g, ' ');
}

export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

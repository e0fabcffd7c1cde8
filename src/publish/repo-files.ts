import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Templates } from '../report/templates.js';
import type { PublishedPackage } from './types.js';

export interface RepoDescription {
  platform: string;
  repoName: string;
  url: string;
  runId: string;
  publishedAt: string;
  packages: PublishedPackage[];
}

export const repoFileName = (repoName: string): string => `${repoName}.repo`;

/** The .repo file `dnf config-manager --add-repo <url>` reads. */
export function repoFileText(d: RepoDescription): string {
  return [`[${d.repoName}]`, `name=${d.repoName} (${d.platform}, published by patchline)`, `baseurl=${d.url}`, 'enabled=1', 'gpgcheck=0', 'repo_gpgcheck=0', ''].join('\n');
}

/** Write the .repo file and the plain index.html into a generation dir. */
export function writeRepoFiles(genDir: string, d: RepoDescription, templates: Templates): void {
  const repoFile = repoFileName(d.repoName);
  writeFileSync(join(genDir, repoFile), repoFileText(d));
  const packages = [...d.packages].sort((a, b) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file));
  writeFileSync(join(genDir, 'index.html'), templates.render('publish-index.html.hbs', { ...d, packages, repoFile, repoFileUrl: d.url + repoFile }));
}

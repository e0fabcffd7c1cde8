import type { Config } from '../../../src/core/config-types.js';

/** The config the mail vectors are classified against. */
export const VECTOR_CONFIG: Config = {
  sources: [],
  repos: { hello: { url: 'file:///dev/null', branches: ['main'] }, nbdkit: { url: 'file:///dev/null', branches: ['master', 'stable-1.32'] } },
};

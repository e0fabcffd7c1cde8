#!/usr/bin/env node
// The upstream run as a standalone binary: node dist/steps/upstream.js --config patchline.yaml [--project P] [--head-only] [--recheck P@sha]
import { enableConfigDiscovery } from '../src/core/config-discovery.js';
import { runCommand } from '../src/core/step.js';
import { upstreamRunCommand } from '../src/upstream/command.js';

const cmd = enableConfigDiscovery(
  upstreamRunCommand('node dist/steps/upstream.js', (code) => {
    process.exitCode = code;
  }),
);
await runCommand(cmd, process.argv.slice(2));

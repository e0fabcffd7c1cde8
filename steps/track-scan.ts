#!/usr/bin/env node
// The tracking scan as a standalone binary: node dist/steps/track-scan.js --config patchline.yaml [--repo R --branch B]
import { enableConfigDiscovery } from '../src/core/config-discovery.js';
import { runCommand } from '../src/core/step.js';
import { scanCommand } from '../src/tracking/command.js';

const cmd = enableConfigDiscovery(
  scanCommand((code) => {
    process.exitCode = code;
  }),
);
cmd.name('node dist/steps/track-scan.js');
await runCommand(cmd, process.argv.slice(2));

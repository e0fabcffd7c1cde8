#!/usr/bin/env -S node --max-semi-space-size=32
// The test step as a standalone binary: node dist/steps/test.js --config patchline.yaml [--run-dir DIR]
import { stepMain } from '../src/core/step.js';

await stepMain('test');

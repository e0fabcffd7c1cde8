#!/usr/bin/env node
// The harvest step as a standalone binary: node dist/steps/harvest.js --config patchline.yaml [--run-dir DIR]
import { stepMain } from '../src/core/step.js';

await stepMain('harvest');

#!/usr/bin/env node
// Build step: write the precompiled schema validators (see PRECOMPILED_FILE in schemas.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRECOMPILED_FILE, precompiledModuleSource } from './schemas.js';

mkdirSync(dirname(PRECOMPILED_FILE), { recursive: true });
writeFileSync(PRECOMPILED_FILE, precompiledModuleSource());

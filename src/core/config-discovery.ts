/**
 * Which patchline.yaml a command reads: `--config` > `PATCHLINE_CONFIG` > `./patchline.yaml` >
 * `/etc/patchline/patchline.yaml`, the same for every command (DESIGN.md "Shipping").
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';

export const CONFIG_ENV = 'PATCHLINE_CONFIG';
export const LOCAL_CONFIG = 'patchline.yaml';
export const SYSTEM_CONFIG = '/etc/patchline/patchline.yaml';

export type ConfigOrigin = 'option' | 'env' | 'cwd' | 'system';

export interface FoundConfig {
  file: string;
  origin: ConfigOrigin;
}

export interface DiscoveryPlaces {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  system?: string;
}

/**
 * The config file to read. An explicit choice (the option, the env var) is taken as it is, even
 * when the file is missing: loading it then says so, rather than silently reading another one.
 */
export function findConfig(given: string | undefined, places: DiscoveryPlaces = {}): FoundConfig | undefined {
  const env = places.env ?? process.env;
  const cwd = places.cwd ?? process.cwd();
  if (given !== undefined && given !== '') return { file: resolve(cwd, given), origin: 'option' };
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { file: resolve(cwd, fromEnv), origin: 'env' };
  const local = resolve(cwd, LOCAL_CONFIG);
  if (existsSync(local)) return { file: local, origin: 'cwd' };
  const system = places.system ?? SYSTEM_CONFIG;
  if (existsSync(system)) return { file: system, origin: 'system' };
  return undefined;
}

export const NO_CONFIG = `no config file: give --config FILE, set ${CONFIG_ENV}, or create ./${LOCAL_CONFIG} or ${SYSTEM_CONFIG}`;

/** `-c, --config <file>`; a command whose config is optional (inspect) runs without one when none is found. */
export class ConfigOption extends Option {
  readonly needed: boolean;

  constructor(description = LOCAL_CONFIG, opts: { needed?: boolean } = {}) {
    super('-c, --config <file>', `${description} (default: $${CONFIG_ENV}, ./${LOCAL_CONFIG}, ${SYSTEM_CONFIG})`);
    this.needed = opts.needed ?? true;
  }
}

export function configOption(description?: string, opts?: { needed?: boolean }): ConfigOption {
  return new ConfigOption(description, opts);
}

/** Fill in the config of the command about to run (a preAction hook: it sees the parsed options). */
export function discoverConfigFor(action: Command): void {
  const option = action.options.find((o): o is ConfigOption => o instanceof ConfigOption);
  if (!option) return;
  const key = option.attributeName();
  const found = findConfig(action.getOptionValue(key) as string | undefined);
  if (found) action.setOptionValueWithSource(key, found.file, found.origin === 'option' ? 'cli' : found.origin === 'env' ? 'env' : 'default');
  else if (option.needed) action.error(`patchline: ECONFIG ${NO_CONFIG}`, { exitCode: 2, code: 'patchline.noConfig' });
}

/** Discovery for every subcommand of `program` (hooks of an ancestor run for its subcommands too). */
export function enableConfigDiscovery(program: Command): Command {
  return program.hook('preAction', (_hooked, action) => discoverConfigFor(action));
}

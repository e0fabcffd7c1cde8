import { Command } from 'commander';
import { configOption } from '../core/config-discovery.js';
import { ExitCode } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { commandAction } from '../core/command-errors.js';

/** A command action: exit 0, or the error's one line and exit code. */
/** Serve until SIGTERM/SIGINT, then stop taking requests, finish the running ones and the running scan. */
async function serve(opts: { config: string; stateDir?: string; listen?: string }): Promise<void> {
  const [{ loadConfig }, { startServer }, { localBackend }, { startScanLoop }] = await Promise.all([
    import('../core/config.js'),
    import('./server.js'),
    import('./local-backend.js'),
    import('./scan-loop.js'),
  ]);
  const log = createLogger();
  const loaded = loadConfig(opts.config, { stateDir: opts.stateDir });
  const server = await startServer({ loaded, backend: localBackend(loaded.stateDir), log, listen: opts.listen });
  const interval = loaded.config.tracking?.scanInterval ?? 0;
  const scans = interval > 0 ? startScanLoop(loaded, log, interval) : undefined;
  log.info(`patchline serve: listening on ${server.url} (state ${loaded.stateDir}; ${scans ? `scanning every ${interval} s` : 'no scans: tracking.scanInterval is 0'})`);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(ExitCode.failed); // a second signal: now
      stopping = true;
      log.info(`patchline serve: ${signal}: stopping${scans ? ' (waiting for a running scan)' : ''}`);
      void Promise.all([server.close(), scans?.stop()]).then(() => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        done();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

async function passwd(opts: { user?: string }): Promise<void> {
  const [{ readNewPassword }, { assertStrongPassword, hashPassword }] = await Promise.all([import('./password-input.js'), import('./passwd.js')]);
  const password = await readNewPassword();
  assertStrongPassword(password, opts.user);
  const hash = await hashPassword(password);
  process.stdout.write(hash + '\n');
  if (opts.user !== undefined) process.stderr.write(`add to patchline.yaml under serve.users:\n  - name: ${opts.user}\n    passwordHash: ${hash}\n`);
}

/** `patchline serve` (the tracking REST API) and `patchline passwd`. */
export function registerServeCommands(program: Command, onExit: (code: ExitCode) => void): void {
  program.addCommand(
    new Command('serve')
      .description('the tracking REST API: GET/POST/PATCH/DELETE /tracking, GET /reviews, GET /healthz (HTTPS with serve.cert/serve.key; plain HTTP only on loopback); scans every tracking.scanInterval seconds')
      .addOption(configOption())
      .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
      .option('--listen <host:port>', 'address to listen on (default: serve.listen, else 127.0.0.1:8443)')
      .action(commandAction(onExit, serve)),
  );
  program.addCommand(
    new Command('passwd')
      .description('read a new password from stdin (no echo on a terminal) and print its scrypt hash for serve.users[].passwordHash; a weak password is refused')
      .option('--user <name>', 'the user it is for (refused when the password contains it; prints the serve.users entry on stderr)')
      .action(commandAction(onExit, passwd)),
  );
}

/** Source failures: one line each in harvest.json; exit 3 when others were read, 1 when none could be. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { executeStep } from '../../src/core/step.js';
import { freePort, startDovecot, type Dovecot } from '../support/dovecot.js';
import { CORPUS, runHarvest, tempDir, writeConfig } from './support.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await startDovecot();
  process.env.PL_TEST_IMAP_PASSWORD = dovecot.password;
  process.env.PL_TEST_WRONG_PASSWORD = 'not-the-password';
});
afterAll(async () => {
  await dovecot?.stop();
});

const mbox = { type: 'mbox', name: 'corpus', path: join(CORPUS, 'all.mbox') };
const imap = (overrides: Record<string, unknown>) => ({ type: 'imap', name: 'list', host: '127.0.0.1', port: dovecot.port, security: 'plain', user: dovecot.user, password: { env: 'PL_TEST_IMAP_PASSWORD' }, ...overrides });

test('a refused login fails that source only: exit 3, the mbox is harvested', async () => {
  const dir = tempDir('sources');
  const { code, result } = await runHarvest(writeConfig(dir, [imap({ password: { env: 'PL_TEST_WRONG_PASSWORD' } }), mbox]), join(dir, 'state'));
  expect(code).toBe(3);
  expect(result.sources[0]).toMatchObject({ name: 'list', seen: 0, error: { code: 'EIMAP', message: expect.stringMatching(/login refused for user lists/) } });
  expect(result.sources[0]!.error!.message).not.toContain('not-the-password');
  expect(result.sources[1]).toMatchObject({ name: 'corpus', seen: 29 });
  expect(result.counts.seen).toBe(29);
});

test('no source can be read: exit 1', async () => {
  const dir = tempDir('sources');
  const closed = await freePort();
  const { code, result } = await runHarvest(writeConfig(dir, [imap({ port: closed }), { ...mbox, name: 'gone', path: join(dir, 'no-such.mbox') }]), join(dir, 'state'));
  expect(code).toBe(1);
  expect(result.sources.map((s) => s.error?.code)).toEqual(['EIMAP', 'EMAIL']);
  expect(result.sources[1]!.error!.message).toMatch(/cannot read mbox .*no-such.mbox: ENOENT/);
  expect(result.counts.seen).toBe(0);
});

test('plain IMAP to a host that is not loopback is a config error (exit 2), before anything is read', async () => {
  const dir = tempDir('sources');
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await executeStep('harvest', { config: writeConfig(dir, [imap({ host: 'imap.example.org' }), mbox]), stateDir: join(dir, 'state'), quiet: true })).toBe(2);
    expect(stderr.mock.calls.map(([line]) => String(line)).join('')).toMatch(/ECONFIG sources.list.security: plain IMAP is only allowed on a loopback host, not imap.example.org/);
  } finally {
    stderr.mockRestore();
  }
  expect(existsSync(join(dir, 'state', 'harvest', 'seen.json'))).toBe(false);
});

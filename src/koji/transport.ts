import http from 'node:http';
import https from 'node:https';
import { PassThrough } from 'node:stream';
import Deserializer from 'xmlrpc/lib/deserializer.js';
import { serializeMethodCall } from 'xmlrpc/lib/serializer.js';
import { PatchlineError } from '../core/errors.js';
import { kojiFaultError } from './faults.js';

/**
 * One XML-RPC request over http(s), written here rather than through xmlrpc's Client: that
 * client shares one headers object between calls, and Koji's session headers change per call.
 */
export interface Endpoint {
  /** The hub URL, e.g. https://koji.example.org/kojihub */
  url: URL;
  tls?: { key?: Buffer; cert?: Buffer; ca?: Buffer };
  timeoutMs: number;
}

/** A hub that has not accepted the TCP connection by then is unreachable (the request timeout can be minutes). */
const CONNECT_TIMEOUT_MS = 10_000;

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** A transport failure worth retrying: connection refused/reset, timeout, HTTP 5xx. */
export function isTransient(err: unknown): boolean {
  return err instanceof PatchlineError && err.details?.transient === true;
}

/** True when the hub cannot have seen the request (safe to resend even a non-idempotent call). */
export function neverDelivered(err: unknown): boolean {
  return err instanceof PatchlineError && err.details?.errno === 'ECONNREFUSED';
}

function transportError(method: string, url: URL, why: string, errno?: string, status?: number): PatchlineError {
  const transient = (errno !== undefined && TRANSIENT_CODES.has(errno)) || (status !== undefined && status >= 500);
  return new PatchlineError('EKOJI', `Koji ${method}: ${url.origin}${url.pathname}: ${why}`, { input: method, details: { transient, errno, status } });
}

function post(endpoint: Endpoint, path: string, method: string, body: string, headers: Record<string, string>): Promise<string> {
  const url = new URL(path, endpoint.url);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'User-Agent': 'patchline (koji/1)', 'Content-Length': Buffer.byteLength(body), ...headers },
        ...(url.protocol === 'https:' ? { ...endpoint.tls, agent: false } : { agent: false }),
        timeout: endpoint.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: NodeJS.ErrnoException) => reject(transportError(method, url, err.message, err.code ?? 'ECONNRESET')));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status !== 200) reject(transportError(method, url, `HTTP ${status}: ${text.trim().split('\n')[0]!.slice(0, 200)}`, undefined, status));
          else resolve(text);
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${endpoint.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const ms = Math.min(CONNECT_TIMEOUT_MS, endpoint.timeoutMs);
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no connection within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(transportError(method, url, err.message, err.code ?? 'ECONNRESET')));
    req.end(body);
  });
}

export function parseMethodResponse(method: string, xml: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const stream = new PassThrough();
    new Deserializer().deserializeMethodResponse(stream, (err, value) => {
      if (err === null) resolve(value);
      else if (typeof err.faultCode === 'number') reject(kojiFaultError(method, err.faultCode, err.faultString ?? ''));
      else reject(new PatchlineError('EKOJI', `Koji ${method}: unreadable response: ${err.message}`, { input: method }));
    });
    stream.end(xml);
  });
}

/** Call `method` at `endpoint` (path `path` below it, '' for the hub itself); faults become EKOJI errors. */
export async function callXmlRpc(endpoint: Endpoint, method: string, params: unknown[], headers: Record<string, string> = {}, path = ''): Promise<unknown> {
  const body = serializeMethodCall(method, params);
  const hubPath = endpoint.url.pathname.replace(/\/$/, '') + (path ? `/${path}` : '');
  const xml = await post(endpoint, hubPath, method, body, headers);
  return parseMethodResponse(method, xml);
}

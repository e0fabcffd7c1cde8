// Types for the parts of the npm xmlrpc package used directly (its own typings cover only the client).
declare module 'xmlrpc/lib/serializer.js' {
  export function serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
  export function serializeMethodResponse(result: unknown): string;
  export function serializeFault(fault: { faultCode: number; faultString: string }): string;
}
declare module 'xmlrpc/lib/deserializer.js' {
  import type { Readable } from 'node:stream';
  export default class Deserializer {
    constructor(encoding?: string);
    deserializeMethodResponse(stream: Readable, callback: (err: (Error & { faultCode?: number; faultString?: string }) | null, value: unknown) => void): void;
    deserializeMethodCall(stream: Readable, callback: (err: Error | null, method: string, params: unknown[]) => void): void;
  }
}

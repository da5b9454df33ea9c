// Fetching and compiling quiver-web.wasm for the browser build, with errors that say what went wrong: the URL,
// the HTTP status, the content type and the first bytes that came back (a 404 page or an SPA's index.html served
// in place of the .wasm is the usual story).
import { QuiverError } from './core.js';

/** The URL of the script running this code when it is a classic script (an iife bundle), captured at load. */
export const scriptUrl: string | undefined = (() => {
  const script = (globalThis as any).document?.currentScript;
  return script && typeof script.src === 'string' && script.src !== '' ? script.src : undefined;
})();

const kMagic = [0x00, 0x61, 0x73, 0x6d];

function startsWithMagic(bytes: Uint8Array): boolean {
  return kMagic.every((b, i) => bytes[i] === b);
}

/** "N bytes: 3c 21 64 6f ... "<!doctype html>..."": what a response held, for messages. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty body';
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  let text = '';
  for (const b of bytes.subarray(0, 40)) text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  return `${bytes.length} bytes starting ${head}${bytes.length > 8 ? ' ...' : ''} ("${text}${bytes.length > 40 ? '...' : ''}")`;
}

function describeResponse(response: Response, bytes: Uint8Array | undefined): string {
  const type = response.headers.get('content-type') ?? 'no content-type';
  const status = `HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}`;
  return `${status}, ${type}${bytes ? ', ' + describeBytes(bytes) : ''}`;
}

function loadError(url: string, what: string, hint: string): QuiverError {
  return new QuiverError('IOError', `could not load the WebAssembly module from ${url}: ${what}; ${hint}`);
}

const message = (e: unknown) => String((e as Error)?.message ?? e);

/**
 * Fetches and compiles the module at `url` (streaming when the server says application/wasm). Every failure is a
 * QuiverError with code IOError naming the URL, what came back, and `hint` (what to do about it).
 */
export async function compileWasm(url: string, hint: string): Promise<WebAssembly.Module> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    throw loadError(url, `the request failed (${message(e)})`, hint);
  }
  const body = async () => {
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      throw loadError(url, `reading the response failed (${message(e)}; ${describeResponse(response, undefined)})`, hint);
    }
  };
  if (!response.ok) throw loadError(url, describeResponse(response, await body().catch(() => undefined)), hint);
  const streaming = (response.headers.get('content-type') ?? '').split(';')[0].trim() === 'application/wasm';
  if (streaming && typeof WebAssembly.compileStreaming === 'function') {
    const copy = response.clone();
    try {
      return await WebAssembly.compileStreaming(response);
    } catch {
      response = copy;  // compile the bytes below, so that the message can say what they were
    }
  }
  const bytes = await body();
  if (!startsWithMagic(bytes)) {
    throw loadError(url, `not a WebAssembly module (${describeResponse(response, bytes)})`, hint);
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw loadError(url, `compiling it failed (${message(e)}; ${describeResponse(response, bytes)})`, hint);
  }
}

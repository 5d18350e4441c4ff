/** HTTPS targets: `https://...` → POST the payload as application/json. */
import { InvokerError } from './errors.js';
import { type InvokeRequest, type InvokeResponse, type Invoker, payloadBytes } from './invoker.js';
import { decodeBody, errorText } from './shared.js';

export const DEFAULT_HTTPS_TIMEOUT_MS = 10_000;

export interface HttpsInvokerOptions {
  /** Replaces the global fetch (tests, proxies, custom agents). */
  fetch?: typeof fetch;
  /**
   * Also accept `http://` targets. For tests against a local server only: production targets are
   * https, since the payload would otherwise cross the network in clear text.
   */
  allowHttp?: boolean;
}

/**
 * POSTs the payload (strings and bytes as they are, anything else as JSON) with
 * `content-type: application/json`. A 2xx resolves with `{ statusCode, body }` (JSON when it
 * parses, else text); anything else rejects naming the status. Redirects are not followed: a
 * 3xx is a failure, so an event is never re-sent to a host the route does not name.
 * @example
 * const https = new HttpsInvoker();
 * await https.invoke({ target: 'https://hooks.example.com/orders', payload: { id: 1 }, psarn });
 */
export class HttpsInvoker implements Invoker {
  readonly service = 'https';
  readonly #fetch: typeof fetch;
  readonly #allowHttp: boolean;

  constructor(options: HttpsInvokerOptions = {}) {
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#allowHttp = options.allowHttp ?? false;
  }

  canInvoke(target: string): boolean {
    return target.startsWith('https://') || (this.#allowHttp && target.startsWith('http://'));
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const fail = (code: 'ERR_INVALID_TARGET' | 'ERR_TARGET_FAILED', message: string, cause?: unknown) =>
      new InvokerError(code, message, { service: 'https', target, cause });
    if (!this.canInvoke(target) || !URL.canParse(target)) {
      throw fail('ERR_INVALID_TARGET', `invalid https target '${target}': expected an https:// URL`);
    }
    const post = this.#fetch; // called unbound: fetch does not want `this` to be the invoker
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await post(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payloadBytes(request.payload),
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_HTTPS_TIMEOUT_MS),
      });
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw fail('ERR_TARGET_FAILED', `POST to '${target}' failed: ${errorText(error)}`, error);
    }
    const body = decodeBody(bytes);
    if (response.status < 200 || response.status > 299) {
      throw new InvokerError('ERR_TARGET_REJECTED', `POST to '${target}' answered HTTP ${response.status}`, {
        service: 'https',
        target,
        statusCode: response.status,
      });
    }
    return { statusCode: response.status, body };
  }
}

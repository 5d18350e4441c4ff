/**
 * SDK client config for tests: fake static credentials (no credential chain, no IMDS), one
 * attempt, and the SDK's own Node HTTP handler wrapped so that any request to a host other than
 * 127.0.0.1 fails instead of leaving the machine (e.g. if the SQS queue-URL endpoint fix broke).
 */
import { after, before, beforeEach } from 'node:test';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AwsClientCache } from '../../../src/client/invokers/aws-clients.js';
import { type FakeAws, startFakeAws } from './fake-aws.js';

// Node 20 is below the SDK's preferred version; the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

class LocalOnlyHandler extends NodeHttpHandler {
  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>) {
    if (request.hostname !== '127.0.0.1') {
      return Promise.reject(new Error(`test SDK client tried to reach ${request.hostname}; only 127.0.0.1 is allowed`));
    }
    return super.handle(request, options);
  }
}

/** A fresh config per call: each gets its own handler, so destroying one client closes only its sockets. */
export function localSdkConfig(endpoint?: string): Record<string, unknown> {
  return {
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new LocalOnlyHandler(),
    ...(endpoint === undefined ? {} : { endpoint }),
  };
}

/** Starts a fake AWS for the enclosing describe, resets it before each test, closes it and every cache after. */
export function useFakeAws(): { readonly fake: FakeAws; clients(config?: Record<string, unknown>): AwsClientCache } {
  let fake: FakeAws | undefined;
  const caches: AwsClientCache[] = [];
  before(async () => {
    fake = await startFakeAws();
  });
  beforeEach(() => fake?.reset());
  after(async () => {
    for (const cache of caches) cache.destroy();
    await fake?.close();
  });
  return {
    get fake() {
      if (fake === undefined) throw new Error('fake AWS not started yet');
      return fake;
    },
    clients(config) {
      const cache = new AwsClientCache(config ?? localSdkConfig(this.fake.url));
      caches.push(cache);
      return cache;
    },
  };
}

/**
 * Headless Chromium for the tests that need a browser: the web console's end-to-end test and the
 * Mermaid parser run on `psarn graph --format mermaid`. Debian's `chromium` (installed by .ci/run)
 * driven by playwright-core: skipped locally when it is missing, a failure in CI as every tool of
 * tools.ts. The caller closes the browser in `after`, even when a later start failed.
 */
import type { TestContext } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { skipUnlessTool, toolPath } from './tools.js';

/** Where screenshots and other artifacts of a test run go: env PSARN_ARTIFACTS, else dist/test-artifacts (rebuilt with dist). */
export function artifactsDir(): string {
  return process.env.PSARN_ARTIFACTS ?? 'dist/test-artifacts';
}

/**
 * A headless Chromium, or undefined when it is not installed here (the test is then skipped; in
 * CI it fails instead). `--no-sandbox`: CI runs as root, where Chromium's sandbox refuses to start.
 */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  if (!skipUnlessTool(t, 'chromium')) return undefined;
  return chromium.launch({
    executablePath: toolPath('chromium')!,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
}

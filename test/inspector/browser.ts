// Chromium for the browser tests: Debian's package, never a download. Without it the tests skip
// (locally) or fail (CI=true).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.PLUGD_CHROMIUM ?? '/usr/bin/chromium';
export const INSTALL = 'apt-get install -y chromium';
export const hasChromium = existsSync(CHROMIUM);
export const inCI = process.env.CI === 'true';
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

export async function launch(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

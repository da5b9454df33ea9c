// Debian's Chromium, headless, driven by playwright-core: one persistent profile per caller.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('../../../npm/node_modules/playwright-core');
const executablePath = process.env.QUIVER_CHROMIUM ?? '/usr/bin/chromium';
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export function launchChromium(profile) {
  assert.ok(existsSync(executablePath), `${executablePath} is missing: scripts/setup.sh --browser`);
  return chromium.launchPersistentContext(profile, { executablePath, headless: true, args });
}

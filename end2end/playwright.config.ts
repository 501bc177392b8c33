import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The real server binary (built by `cargo leptos build`; E2E_SERVER names another,
// e.g. target/release/server after scripts/release.sh) on a fresh SQLite file.
const root = resolve(__dirname, '..');
const port = Number(process.env.E2E_PORT ?? 3107);
// Set once in the runner and inherited by the workers, which create users in it.
process.env.PORTCULLIS_E2E_DATA ??= mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
const dataDir = process.env.PORTCULLIS_E2E_DATA;
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: {
    command: resolve(root, process.env.E2E_SERVER ?? join('target', 'debug', 'server')),
    cwd: root,
    url: `${baseURL}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      LEPTOS_CONFIG: join(root, 'Leptos.toml'),
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      // 5 s access tokens: every browser test runs through many refreshes.
      ACCESS_TOKEN_TTL: process.env.ACCESS_TOKEN_TTL ?? '5s',
      // The suite registers more accounts, and signs in more often, from one
      // IP than a person would (the limits have their own Rust attack tests).
      REGISTER_RATE_LIMIT: '500/1h',
      SIGN_IN_RATE_LIMIT: '1000/5m',
      RUST_LOG: 'warn',
    },
  },
});

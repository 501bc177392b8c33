import { expect, Page } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { baseURL } from '../playwright.config';

export const password = 'correct horse battery';

export function uniqueName(prefix = 'e2e'): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** Collects console errors and page errors (hydration problems included). */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Waits until the WASM bundle has hydrated the page (it sets a flag when done). */
export async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__portcullis_hydrated === true, null, { timeout: Number(process.env.HYDRATE_TIMEOUT ?? 30_000) });
}

/** Registers a user through the JSON API (cookies land in the page's context only on login). */
export async function newUser(page: Page, prefix = 's'): Promise<string> {
  const name = uniqueName(prefix);
  const origin = new URL(page.url() === 'about:blank' ? baseURL : page.url()).origin;
  const r = await page.request.post('/api/auth/register', {
    data: { username: name, password },
    headers: { Origin: origin, 'x-portcullis-csrf': '1' },
  });
  expect(r.status()).toBe(201);
  return name;
}

/** Signs in through the form and waits for the dashboard. */
export async function signIn(page: Page, name: string, pw = password) {
  await page.goto('/login?next=/dashboard');
  await hydrated(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('welcome')).toContainText(name);
  // Sign-in ends with a full page load of /dashboard; let it settle completely
  // before a test navigates again (or that navigation may be interrupted).
  await page.waitForLoadState('networkidle');
  await hydrated(page);
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** Creates a user with `server create-user` on the test server's database. */
export function createUserCli(name: string, role: 'user' | 'admin', pw = password) {
  const root = resolve(__dirname, '..', '..');
  const dataDir = process.env.PORTCULLIS_E2E_DATA;
  if (!dataDir) throw new Error('PORTCULLIS_E2E_DATA is set by playwright.config.ts');
  execFileSync(join(root, 'target', 'debug', 'server'), ['create-user', '--username', name, '--role', role], {
    cwd: root,
    input: `${pw}\n`,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, RUST_LOG: 'warn' },
  });
}

/** Signs out through the account menu in the header. */
export async function signOut(page: Page) {
  await page.getByTestId('who').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
}

/**
 * Makes the test server's database really unavailable: a separate process
 * holds SQLite's write lock (`BEGIN EXCLUSIVE`) until the returned function
 * releases it (closing its stdin ends the process, and the lock with it).
 */
export async function lockDatabase(): Promise<() => Promise<void>> {
  const dataDir = process.env.PORTCULLIS_E2E_DATA;
  if (!dataDir) throw new Error('PORTCULLIS_E2E_DATA is set by playwright.config.ts');
  const script = [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)',
    "c.execute('BEGIN EXCLUSIVE')",
    "print('locked', flush=True)",
    'sys.stdin.read()',
  ].join('\n');
  const holder = spawn('python3', ['-c', script, join(dataDir, 'portcullis.db')], { stdio: 'pipe' });
  const exited = new Promise<void>((done) => holder.on('exit', () => done()));
  let stderr = '';
  holder.stderr.on('data', (d) => { stderr += String(d); });
  await new Promise<void>((locked, failed) => {
    holder.stdout.on('data', (d) => { if (String(d).includes('locked')) locked(); });
    holder.on('exit', (code) => failed(new Error(`the lock holder exited (${code}): ${stderr}`)));
  });
  return async () => {
    holder.stdin.end();
    await exited;
  };
}

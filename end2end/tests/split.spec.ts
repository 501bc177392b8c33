import { test, expect, Page } from '@playwright/test';
import { hydrated, newUser, signIn, watchConsole } from './helpers';

// The WASM is split (`cargo leptos build --split`): the pages most visits never
// open are chunks of their own, fetched on the first visit to them.

/** Records the WASM files a page fetches. */
function wasmRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) seen.push(path.replace('/pkg/', ''));
  });
  return seen;
}

const chunkOf = (page: string) => new RegExp(`^split___${page}_route_view_\\d+\\.wasm$`);

test('the sign-in page loads only the main module, and a lazy page loads its chunk when visited', async ({ page }) => {
  const errors = watchConsole(page);
  const wasm = wasmRequests(page);
  await page.goto('/login');
  await hydrated(page);
  await page.waitForLoadState('networkidle');
  expect(wasm).toEqual(['portcullis.wasm']);

  // Client-side navigation to a lazy page fetches its chunk, then renders it.
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
  expect(wasm.some((f) => chunkOf('register').test(f))).toBe(true);
  expect(wasm.some((f) => chunkOf('admin').test(f))).toBe(false);

  // The lazily loaded form works: a weak password is refused beside its field.
  await page.getByLabel('Username').fill(`split${Date.now().toString(36)}`);
  await page.getByLabel('Password', { exact: true }).fill('password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#password-error')).not.toBeEmpty();
  // Chromium logs the refusal's 400 itself; anything else would be a real error.
  expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
});

test('a lazy page loaded directly fetches its chunk and hydrates', async ({ page }) => {
  const errors = watchConsole(page);
  const name = await newUser(page, 'sp');
  await signIn(page, name);

  const wasm = wasmRequests(page);
  // (The server usually also adds <link rel="preload"> hints for the chunks;
  // leptos 0.8 adds them only when the lazy route registered in time, so the
  // page must not depend on them: hydration fetches what is missing.)
  await page.goto('/sessions');
  await hydrated(page);
  expect(wasm.some((f) => chunkOf('sessions').test(f))).toBe(true);
  await expect(page.getByTestId('sessions').locator('li')).toHaveCount(1);
  // Hydrated: the account menu of the header responds.
  await page.getByTestId('who').click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  expect(errors).toEqual([]);
});

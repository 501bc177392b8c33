import { test, expect } from '@playwright/test';
import { createUserCli, hydrated, newUser, password, signIn, uniqueName, watchConsole } from './helpers';

test('a user typing /admin gets the 403 page, from the server and in the app', async ({ page }) => {
  const errors = watchConsole(page);
  const apiFailures: string[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/') && r.status() >= 400) apiFailures.push(`${r.status()} ${r.url()}`);
  });
  const name = await newUser(page, 'u');
  await signIn(page, name);

  // Typed into the address bar: the server renders the 403 page with status 403.
  const response = await page.goto('/admin');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('forbidden')).toBeVisible();
  await expect(page.getByTestId('users')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);

  // Navigated to inside the app: the client guard applies the same policy.
  await page.goto('/dashboard');
  await hydrated(page);
  await page.evaluate(() => {
    const a = document.createElement('a');
    a.href = '/admin';
    a.id = 'to-admin';
    a.textContent = 'to admin';
    document.body.append(a);
  });
  await page.locator('#to-admin').click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByTestId('forbidden')).toBeVisible();
  await expect(page.getByTestId('users')).toHaveCount(0);
  // The only error is Chromium's note that the /admin document itself was a 403:
  // the client never even asked for the user list.
  expect(errors.filter((e) => !e.includes('status of 403'))).toEqual([]);
  expect(errors.length).toBeLessThanOrEqual(1);
  expect(apiFailures).toEqual([]);
});

test('an admin promotes, disables and re-enables a user through the console', async ({ page, playwright }) => {
  const errors = watchConsole(page);
  const admin = uniqueName('admin');
  createUserCli(admin, 'admin');
  const target = uniqueName('carol');
  const baseURL = test.info().project.use.baseURL!;
  // Calls made like the app's own: our Origin and the app's CSRF header.
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL, 'x-portcullis-csrf': '1' } });
  expect((await api.post('/api/auth/register', { data: { username: target, password } })).status()).toBe(201);

  await signIn(page, admin);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.getByLabel('Search users').fill(target);
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator(`tr[data-user="${target}"]`);
  await expect(row).toBeVisible();
  await expect(page.getByTestId('page')).toContainText('1 users');

  await row.getByLabel(`Role for ${target}`).selectOption('admin');
  await expect(page.getByTestId('admin-status')).toHaveText(`${target} is now admin.`);
  await expect(row.getByLabel(`Role for ${target}`)).toHaveValue('admin');
  await page.screenshot({ path: 'test-results/admin.png', fullPage: true });

  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByTestId('admin-status')).toContainText(`${target} is disabled`);
  await expect(row.getByTestId('standing')).toHaveText('Disabled');
  const refused = await api.post('/api/auth/login', { data: { username: target, password } });
  expect(refused.status()).toBe(401);

  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(page.getByTestId('admin-status')).toContainText(`${target} is enabled again`);
  await expect(row.getByTestId('standing')).toHaveText('Active');
  const accepted = await api.post('/api/auth/login', { data: { username: target, password } });
  expect(accepted.status()).toBe(200);
  expect((await (await api.get('/api/me')).json()).role).toBe('admin');

  // Paging: 21 more users under one prefix make two pages of 20.
  const prefix = uniqueName('pg');
  for (let i = 0; i < 21; i++) {
    const r = await api.post('/api/auth/register', { data: { username: `${prefix}_${i}`, password } });
    expect(r.status()).toBe(201);
  }
  await page.getByLabel('Search users').fill(prefix);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('page')).toHaveText('Page 1 of 2 · 21 users');
  await expect(page.locator('table.users tbody tr')).toHaveCount(20);
  await expect(page.getByRole('button', { name: 'Previous' })).toBeDisabled();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('page')).toHaveText('Page 2 of 2 · 21 users');
  await expect(page.locator('table.users tbody tr')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
  await page.screenshot({ path: 'test-results/admin-page-2.png' });
  await api.dispose();
  expect(errors).toEqual([]);
});

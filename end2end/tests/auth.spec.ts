import { test, expect } from '@playwright/test';
import { hydrated, password, signOut, uniqueName, watchConsole } from './helpers';

test('a new user registers, signs in, reloads, signs out and is sent to /login', async ({ page }) => {
  const errors = watchConsole(page);
  const name = uniqueName();

  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/login\?registered=1/);
  await expect(page.getByRole('status')).toContainText('account is ready');

  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard/);
  await hydrated(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('welcome')).toContainText(name);
  await page.screenshot({ path: 'test-results/dashboard.png' });

  await page.reload();
  await expect(page.getByTestId('welcome')).toContainText(name);
  await hydrated(page);

  await signOut(page);
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard/);
  expect(errors).toEqual([]);
});

test('a wrong password shows a readable message beside the form', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill('nobody-at-all');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
  await expect(page).toHaveURL(/\/login/);
  await page.screenshot({ path: 'test-results/login-error.png' });
  // The 401 of the failed sign-in is expected; nothing else may be logged.
  expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
});

test('a taken username is reported beside the username field', async ({ page }) => {
  const name = uniqueName();
  for (const attempt of [1, 2]) {
    await page.goto('/register');
    await hydrated(page);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    if (attempt === 1) await expect(page).toHaveURL(/registered=1/);
  }
  await expect(page.locator('#username-error')).toHaveText('That username is already taken.');
});

test('the register form gives a strength hint and refuses a common password beside its field', async ({ page }) => {
  await page.goto('/register');
  await hydrated(page);
  await expect(page.locator('#password-hint')).toContainText('At least 8 characters');
  await page.getByLabel('Username').fill(uniqueName());
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#password-error')).toContainText('too common or easy to guess');
  await expect(page).toHaveURL(/\/register$/);
  await page.screenshot({ path: 'test-results/register-weak.png' });
});

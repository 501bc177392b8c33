import { test, expect, Page, BrowserContext } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createUserCli, hydrated, newUser, password, signIn, uniqueName } from './helpers';

const shots = resolve(__dirname, '..', '..', 'docs', 'screenshots');
mkdirSync(shots, { recursive: true });

/** Collects errors and warnings (Leptos reports hydration problems as either). */
function watchConsoleStrict(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  return problems;
}

/** Starts recording layout shifts from the first paint of the next page load. */
async function recordLayoutShifts(page: Page) {
  await page.addInitScript(() => {
    (window as any).__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as any[]) {
        (window as any).__shifts.push({ value: e.value, recent: e.hadRecentInput });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
}

async function layoutShift(page: Page): Promise<number> {
  // Let a frame or two pass after hydration so any late shift is recorded.
  await page.waitForTimeout(300);
  return page.evaluate(() =>
    ((window as any).__shifts as { value: number; recent: boolean }[])
      .filter((s) => !s.recent)
      .reduce((sum, s) => sum + s.value, 0),
  );
}

/** How many pixels the page is wider than the window (0 or less: it fits). */
async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test('keyboard only: sign in, reveal the password, submit with Enter, open the menu', async ({ page }) => {
  const name = await newUser(page, 'kb');
  await page.goto('/login');
  await hydrated(page);
  // The page opens with the cursor in the username field.
  await expect(page.locator('#username')).toBeFocused();
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  await expect(page.locator('#password')).toBeFocused();
  await page.keyboard.type(password);
  await page.keyboard.press('Tab');
  const reveal = page.getByRole('button', { name: 'Show password' });
  await expect(reveal).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.locator('#password')).toHaveAttribute('type', 'text');
  await expect(page.getByRole('button', { name: 'Hide password' })).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('Space');
  await expect(page.locator('#password')).toHaveAttribute('type', 'password');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('welcome')).toContainText(name);
  await hydrated(page);

  // Back on /login while signed in: the page says so and links onward.
  await page.goto('/login');
  await expect(page.getByTestId('already-signed-in')).toContainText(name);
  await page.goto('/dashboard');
  await hydrated(page);

  // The account menu opens from the keyboard and closes with Escape.
  await page.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('link', { name: 'Account', exact: true })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('link', { name: 'Account', exact: true })).toBeHidden();
});

test('with JavaScript disabled, register and sign in work and show their errors', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const name = uniqueName('nojs');

  await page.goto('/register');
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill('password1');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/register\?error=validation_failed&field=password/);
  await expect(page.locator('#password-error')).toContainText('not common or easy to guess');
  await expect(page.locator('#password')).toBeFocused();

  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/login\?registered=1/);
  await expect(page.getByRole('status')).toContainText('account is ready');

  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
  // The reveal toggle needs the WASM, so it never shows without it.
  await expect(page.getByRole('button', { name: 'Show password' })).toHaveCount(0);

  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('welcome')).toContainText(name);

  // The account menu is a <details>: it opens and signs out without JavaScript.
  await page.getByTestId('who').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard/);
  await context.close();
});

test('errors are shown beside their field, announced, and focused', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill('nobody-at-all');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toHaveText('Incorrect username or password.');
  await expect(alert).toBeFocused();
  await expect(page).toHaveURL(/\/login$/);

  const taken = await newUser(page, 'tk');
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Username').fill(taken);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#username-error')).toHaveText('That username is already taken.');
  await expect(page.locator('#username')).toBeFocused();
  await expect(page.locator('#username')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#username-error')).toHaveAttribute('aria-live', 'polite');

  // The strength meter follows the typing; the server still has the last word.
  const meter = page.getByTestId('strength');
  await page.getByLabel('Username').fill(uniqueName('sm'));
  await page.getByLabel('Password').fill('password1');
  await expect(meter).toContainText('Too weak');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#password-error')).toContainText('too common or easy to guess');
  await expect(page.locator('#password')).toBeFocused();
  await page.getByLabel('Password').fill('correct horse battery staple orbit');
  await expect(meter).toContainText('Strong');
  await expect(meter).toHaveAttribute('data-score', '4');
});

test('a submitted form shows its pending state until the server answers', async ({ page }) => {
  const name = await newUser(page, 'pd');
  await page.goto('/login');
  await hydrated(page);
  // Hold the sign-in request for a moment, as a slow network would.
  await page.route('**/api/fn/login', async (route) => {
    await new Promise((r) => setTimeout(r, 1_000));
    await route.continue();
  });
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const pending = page.getByRole('button', { name: 'Signing in…' });
  await expect(pending).toBeDisabled();
  await expect(pending).toHaveAttribute('aria-busy', 'true');
  await expect(pending.locator('.spinner')).toBeVisible();
  await expect(page).toHaveURL(/\/dashboard$/);
});

test('changing the password signs the other devices out, and they are told why', async ({ browser }) => {
  const laptop: BrowserContext = await browser.newContext();
  const phone: BrowserContext = await browser.newContext();
  const l = await laptop.newPage();
  const p = await phone.newPage();
  const name = await newUser(l, 'pw');
  await signIn(l, name);
  await signIn(p, name);

  await l.getByTestId('who').click();
  await l.getByRole('link', { name: 'Account', exact: true }).click();
  await expect(l).toHaveURL(/\/account$/);
  await l.getByLabel('Current password').fill('not my password');
  await l.getByLabel('New password').fill('mauve tractor lagoon');
  await l.getByRole('button', { name: 'Change password' }).click();
  await expect(l.locator('#current_password-error')).toHaveText('Your current password is not correct.');
  await expect(l.locator('#current_password')).toBeFocused();

  await l.getByLabel('Current password').fill(password);
  await expect(l.getByLabel('Sign out my other sessions')).toBeChecked();
  await l.getByRole('button', { name: 'Change password' }).click();
  await expect(l.getByTestId('password-changed')).toHaveText(
    'Your password has been changed, and your 1 other session was signed out.',
  );
  await expect(l.getByLabel('Current password')).toHaveValue('');

  // The phone's next silent refresh fails for good: it lands on the sign-in
  // page with a notice saying the session ended (5 s access tokens in tests).
  await expect(p).toHaveURL(/\/login\?ended=1/, { timeout: 15_000 });
  await expect(p.getByTestId('session-ended')).toBeVisible();

  // The laptop carries on through further refreshes.
  await l.waitForTimeout(6_000);
  await l.goto('/sessions');
  await expect(l.getByTestId('sessions').locator('li')).toHaveCount(1);
  await laptop.close();
  await phone.close();
});

test('no console errors, no hydration warnings and no layout shift on any page', async ({ page }) => {
  const problems = watchConsoleStrict(page);
  await recordLayoutShifts(page);
  const admin = uniqueName('cls');
  createUserCli(admin, 'admin');
  const anonymous = ['/', '/login', '/register', '/login?error=invalid_credentials', '/no-such-page'];
  const signedIn = ['/dashboard', '/sessions', '/account', '/admin'];
  for (const path of anonymous) {
    await page.goto(path);
    await hydrated(page);
    expect(await layoutShift(page), `layout shift on ${path}`).toBeLessThan(0.01);
  }
  await signIn(page, admin);
  for (const path of signedIn) {
    await page.goto(path);
    await hydrated(page);
    await page.waitForLoadState('networkidle');
    expect(await layoutShift(page), `layout shift on ${path}`).toBeLessThan(0.01);
  }
  // The 404 page is a 404 document: Chromium logs that as a failed resource.
  expect(problems.filter((p) => !p.includes('404 (Not Found)'))).toEqual([]);
});

test('screenshots for the README: light, dark and 360 px wide', async ({ browser }) => {
  const name = 'ada';
  createUserCli(name, 'admin');
  const light = await browser.newContext({ colorScheme: 'light', viewport: { width: 1100, height: 720 } });
  let page = await light.newPage();
  await page.goto('/login?next=/dashboard');
  await hydrated(page);
  await page.screenshot({ path: join(shots, 'login-light.png') });
  await signIn(page, name);
  // The account page, not the dashboard: it shows nothing random (the
  // dashboard shows the user id), so the committed images only change when the
  // design does.
  await page.goto('/account');
  await hydrated(page);
  await page.getByTestId('who').click();
  await page.screenshot({ path: join(shots, 'menu-light.png') });
  await light.close();

  const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1100, height: 720 } });
  page = await dark.newPage();
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.screenshot({ path: join(shots, 'login-error-dark.png') });
  await signIn(page, name);
  await page.goto('/account');
  await hydrated(page);
  await page.getByLabel('New password').fill('mauve tractor');
  await page.screenshot({ path: join(shots, 'account-dark.png') });
  await dark.close();

  const phone = await browser.newContext({ colorScheme: 'light', viewport: { width: 360, height: 740 } });
  page = await phone.newPage();
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Username').fill('grace');
  await page.getByLabel('Password').fill('correct horse');
  await expect(page.getByTestId('strength')).toContainText('Strength');
  // Nothing is wider than the screen.
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(shots, 'register-360.png'), fullPage: true });
  await signIn(page, name);
  await page.goto('/account');
  await hydrated(page);
  await page.getByTestId('who').click();
  await expect(page.getByRole('link', { name: 'Sessions', exact: true })).toBeVisible();
  await page.screenshot({ path: join(shots, 'menu-360.png') });
  // Every page fits 360 px (the admin table scrolls inside its own box).
  for (const path of ['/', '/dashboard', '/sessions', '/account', '/admin', '/no-such-page']) {
    await page.goto(path);
    await hydrated(page);
    expect(await horizontalOverflow(page), `horizontal overflow on ${path} at 360 px`).toBeLessThanOrEqual(0);
  }
  await phone.close();
});

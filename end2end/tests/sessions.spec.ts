import { test, expect, Page, BrowserContext } from '@playwright/test';
import { hydrated, newUser, signIn, signOut } from './helpers';

/** A new user signed in, with two tabs of one browser showing the dashboard. */
async function twoSignedInTabs(context: BrowserContext) {
  const a = await context.newPage();
  const name = await newUser(a);
  await signIn(a, name);
  const b = await context.newPage();
  await b.goto('/dashboard');
  await hydrated(b);
  return { a, b, name };
}

/** Records failed API answers and every visit to /login. */
function watch(page: Page) {
  const failures: string[] = [];
  const logins: string[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/') && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && new URL(f.url()).pathname === '/login') logins.push(f.url());
  });
  return { failures, logins };
}

test('two tabs work through more than ten access-token lifetimes without a failure', async ({ context }) => {
  test.setTimeout(150_000);
  const { a, b, name } = await twoSignedInTabs(context);
  const wa = watch(a);
  const wb = watch(b);

  const until = Date.now() + 60_000;
  let rounds = 0;
  while (Date.now() < until) {
    for (const page of [a, b]) {
      await page.getByRole('link', { name: 'Sessions', exact: true }).click();
      await expect(page.getByTestId('sessions')).toBeVisible();
      await page.getByRole('link', { name: 'Dashboard' }).first().click();
      await expect(page.getByTestId('welcome')).toContainText(name);
    }
    rounds++;
    await a.waitForTimeout(1_000);
  }
  // Both tabs are still signed in after the minute, also for a full page load.
  for (const page of [a, b]) {
    await page.reload();
    await expect(page.getByTestId('welcome')).toContainText(name);
  }
  expect(rounds).toBeGreaterThan(10);
  expect(wa.failures.concat(wb.failures)).toEqual([]);
  expect(wa.logins.concat(wb.logins)).toEqual([]);
});

test('signing out in one tab sends the other to /login within 2 seconds', async ({ context }) => {
  const { a, b, name } = await twoSignedInTabs(context);
  await signOut(a);
  await expect(a).toHaveURL(/\/login$/);
  await expect(b).toHaveURL(/\/login/, { timeout: 2_000 });
});

test('revoking another device from the Sessions page sends it to /login', async ({ browser }) => {
  const laptop: BrowserContext = await browser.newContext();
  const phone: BrowserContext = await browser.newContext();
  const l = await laptop.newPage();
  const name = await newUser(l);
  await signIn(l, name);
  const p = await phone.newPage();
  await signIn(p, name);

  await l.getByRole('link', { name: 'Sessions', exact: true }).click();
  const list = l.getByTestId('sessions');
  await expect(list.locator('li')).toHaveCount(2);
  await l.screenshot({ path: 'test-results/sessions.png' });
  await list.getByRole('button', { name: 'Sign out' }).click();
  await expect(list.locator('li')).toHaveCount(1, { timeout: 10_000 });

  // The phone learns at its next refresh (at most one 5 s token lifetime away).
  await expect(p).toHaveURL(/\/login\?ended=1/, { timeout: 10_000 });
  await expect(p.getByRole('status')).toContainText('session has ended');
  await laptop.close();
  await phone.close();
});

import { test, expect, Page, BrowserContext, Request } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated, lockDatabase, newUser, signIn } from './helpers';

/** One refresh a tab sent: when it left, when its answer arrived, its status. */
type Refresh = { tab: string; sent: number; done: number; status: number };

/** Records a tab's refreshes and every visit it makes to /login. */
function watch(page: Page, tab: string, refreshes: Refresh[]) {
  const logins: string[] = [];
  const sent = new Map<Request, number>();
  // When the page issued the request (before any delay), and when its answer came.
  page.on('request', (r) => { if (r.url().endsWith('/api/fn/refresh')) sent.set(r, Date.now()); });
  page.on('response', (r) => {
    if (!r.url().endsWith('/api/fn/refresh')) return;
    refreshes.push({ tab, sent: sent.get(r.request()) ?? 0, done: Date.now(), status: r.status() });
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && new URL(f.url()).pathname === '/login') logins.push(f.url());
  });
  return logins;
}

/** A new user signed in, with two tabs of one browser on signed-in pages. */
async function twoTabs(context: BrowserContext, first: string, second: string) {
  const a = await context.newPage();
  const name = await newUser(a, 'o');
  await signIn(a, name);
  await a.goto(first);
  await hydrated(a);
  const b = await context.newPage();
  await b.goto(second);
  await hydrated(b);
  return { a, b, name };
}

/** The notice passes the same axe rules as every page, light and dark, wide and narrow. */
async function auditWithNotice(page: Page) {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'];
  const failures: string[] = [];
  for (const [scheme, width, height] of [['light', 1280, 720], ['dark', 1280, 720], ['light', 360, 640], ['dark', 360, 640]] as const) {
    await page.setViewportSize({ width, height });
    await page.emulateMedia({ colorScheme: scheme });
    await expect(page.getByTestId('keeper-notice')).toBeVisible();
    await page.screenshot({ path: `test-results/outage-notice-${scheme}-${width}.png` });
    const results = await new AxeBuilder({ page }).withTags(tags).analyze();
    for (const v of results.violations) {
      failures.push(`[${scheme} ${width}] ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ colorScheme: 'light' });
  expect(failures).toEqual([]);
}

test('a locked database shows a notice in every tab, never the sign-in page, and the session outlives it', async ({ context }) => {
  test.setTimeout(120_000);
  const { a, b, name } = await twoTabs(context, '/account', '/sessions');
  const refreshes: Refresh[] = [];
  const logins = [watch(a, 'a', refreshes), watch(b, 'b', refreshes)];

  const release = await lockDatabase();
  try {
    // The next refresh is due within a 5 s token lifetime; it answers 503.
    for (const page of [a, b]) {
      await expect(page.getByTestId('keeper-notice')).toBeVisible({ timeout: 15_000 });
    }
    await expect(a.getByTestId('keeper-notice')).toContainText("Can't reach the server.");
    await expect(a.getByTestId('keeper-notice')).toContainText('You are still signed in.');
    await auditWithNotice(a);
    // Nothing else happens while it lasts: the pages stay, the notice too.
    await a.waitForTimeout(4_000);
    await expect(a).toHaveURL(/\/account$/);
    await expect(b).toHaveURL(/\/sessions$/);
    for (const page of [a, b]) await expect(page.getByTestId('keeper-notice')).toBeVisible();
  } finally {
    await release();
  }

  // The next try succeeds in one tab, and the notice goes in both.
  for (const page of [a, b]) {
    await expect(page.getByTestId('keeper-notice')).toBeHidden({ timeout: 45_000 });
  }
  expect(logins.flat()).toEqual([]);
  const failed = refreshes.filter((r) => r.status === 503).sort((x, y) => x.sent - y.sent);
  expect(failed.length).toBeGreaterThan(0);
  expect(refreshes.filter((r) => r.status !== 503 && r.status !== 200)).toEqual([]);
  // Both tabs together waited for the server's Retry-After (2 s) before each
  // new try, instead of trying every second.
  for (let i = 1; i < failed.length; i++) {
    expect(failed[i].sent - failed[i - 1].done, JSON.stringify(failed)).toBeGreaterThanOrEqual(1_800);
  }
  await a.reload();
  await expect(a).toHaveURL(/\/account$/);
  await expect(a.getByTestId('account-username')).toHaveText(name);
  await b.reload();
  await expect(b.getByTestId('sessions')).toBeVisible();
});

test('refreshes slower than the refresh lock overlap across tabs and sign nobody out', async ({ context }) => {
  test.setTimeout(90_000);
  const { a, b, name } = await twoTabs(context, '/account', '/sessions');
  const refreshes: Refresh[] = [];
  const logins = [watch(a, 'a', refreshes), watch(b, 'b', refreshes)];
  // A slow network (the busy machine): every refresh leaves 9 s late,
  // after the 8 s lock has lapsed, so the other tab refreshes meanwhile. The
  // requests are real, only delayed.
  await context.route('**/api/fn/refresh', async (route) => {
    await new Promise((resume) => setTimeout(resume, 9_000));
    await route.continue().catch(() => {});
  });
  await expect.poll(() => refreshes.length, { timeout: 45_000 }).toBeGreaterThanOrEqual(3);
  const sorted = [...refreshes].sort((x, y) => x.sent - y.sent);
  const overlapped = sorted.some((r, i) => i > 0 && r.tab !== sorted[i - 1].tab && r.sent < sorted[i - 1].done);
  expect(overlapped, JSON.stringify(sorted)).toBe(true);
  expect(refreshes.filter((r) => r.status !== 200)).toEqual([]);
  expect(logins.flat()).toEqual([]);
  await context.unroute('**/api/fn/refresh');
  await a.reload();
  await expect(a.getByTestId('account-username')).toHaveText(name);
  await b.reload();
  await expect(b.getByTestId('sessions')).toBeVisible();
});

test('a "signed out" refresh answer is checked once more: cookies that come back keep both tabs signed in', async ({ context }) => {
  test.setTimeout(60_000);
  const { a, b, name } = await twoTabs(context, '/account', '/sessions');
  const refreshes: Refresh[] = [];
  const logins = [watch(a, 'a', refreshes), watch(b, 'b', refreshes)];
  // The race behind the false sign-out of issue 18: the cookies vanish (a
  // response that cleared them), a tab's refresh leaves without them and is
  // answered 401 token_missing, and a moment later another tab's slow 200
  // brings valid cookies back. Here the test clears and restores the
  // browser's own cookies; every answer is the real server's.
  await expect.poll(() => refreshes.filter((r) => r.status === 200).length, { timeout: 15_000 }).toBeGreaterThan(0);
  const saved = await context.cookies();
  let restored = false;
  for (const page of [a, b]) {
    page.on('response', async (r) => {
      if (restored || !r.url().endsWith('/api/fn/refresh') || r.status() !== 401) return;
      restored = true;
      await context.addCookies(saved);
    });
  }
  await context.clearCookies();
  await expect.poll(() => restored, { timeout: 15_000 }).toBe(true);
  // The tab asks again a second later, with the cookies now back: 200.
  const after = () => refreshes.filter((r) => r.status === 200 && r.sent > refreshes.find((x) => x.status === 401)!.done);
  await expect.poll(() => after().length, { timeout: 15_000 }).toBeGreaterThan(0);
  await a.waitForTimeout(2_000);
  expect(logins.flat()).toEqual([]);
  await expect(a).toHaveURL(/\/account$/);
  await expect(b).toHaveURL(/\/sessions$/);
  await a.reload();
  await expect(a.getByTestId('account-username')).toHaveText(name);
});

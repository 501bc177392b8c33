import { test, expect, Page, Browser } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createUserCli, hydrated, newUser, signIn, uniqueName } from './helpers';

// Every page of the app, as a visitor, a user and an admin, audited by axe in
// light and dark, wide and 360 px. The list of visits is checked against the
// router's own table (`app/src/lib.rs`) and the page titles against
// `app/src/site.rs`, so a page added later without a visit here fails.

const root = resolve(__dirname, '..', '..');
const source = (file: string) => readFileSync(resolve(root, file), 'utf8');

/** The paths of `<Route path=path!("…")>` in `App`. */
const routes = [...source('app/src/lib.rs').matchAll(/path=path!\("([^"]*)"\)/g)].map((m) => m[1]);
/** The paths the policy's route table protects (`Access::Requires`). */
const protectedRoutes = [...source('core/src/policy.rs').matchAll(/\("(\/[^"]*)", Access::Requires/g)].map((m) => m[1]);

interface Meta { title: string; description: string }
/** `site::PAGES` by path, plus `NOT_FOUND` and `FORBIDDEN`, read from the Rust source. */
const site = source('app/src/site.rs');
const metaByPath = new Map<string, Meta>();
for (const m of site.matchAll(/path: "([^"]*)",\s*title: "([^"]*)",\s*description: "([^"]*)"/g)) {
  metaByPath.set(m[1], { title: m[2], description: m[3] });
}
function namedMeta(name: string): Meta {
  const m = site.match(new RegExp(`pub const ${name}: PageMeta = PageMeta \\{\\s*path: "",\\s*title: "([^"]*)",\\s*description: "([^"]*)"`));
  if (!m) throw new Error(`site.rs has no ${name}`);
  return { title: m[1], description: m[2] };
}
const notFound = namedMeta('NOT_FOUND');
const forbidden = namedMeta('FORBIDDEN');

type Who = 'visitor' | 'user' | 'admin';
interface Visit {
  path: string;
  who: Who;
  status?: number;
  /** Open the account menu before the audit. */
  openMenu?: boolean;
}

const visits: Visit[] = [
  { path: '/', who: 'visitor' },
  { path: '/login', who: 'visitor' },
  { path: '/login?error=invalid_credentials', who: 'visitor' },
  { path: '/login?error=rate_limited&retry_after=60', who: 'visitor' },
  { path: '/login?ended=1&next=/dashboard', who: 'visitor' },
  { path: '/login?registered=1', who: 'visitor' },
  { path: '/register', who: 'visitor' },
  { path: '/register?error=validation_failed&field=password', who: 'visitor' },
  { path: '/register?error=username_taken&field=username', who: 'visitor' },
  { path: '/no-such-page', who: 'visitor', status: 404 },
  { path: '/', who: 'user' },
  { path: '/login', who: 'user' },
  { path: '/register', who: 'user' },
  { path: '/dashboard', who: 'user' },
  { path: '/dashboard', who: 'user', openMenu: true },
  { path: '/sessions', who: 'user' },
  { path: '/account', who: 'user' },
  { path: '/account?changed=1&signed_out=2', who: 'user' },
  { path: '/account?error=validation_failed&field=current_password', who: 'user' },
  { path: '/admin', who: 'user', status: 403 },
  { path: '/no-such-page', who: 'user', status: 404 },
  { path: '/dashboard', who: 'admin' },
  { path: '/dashboard', who: 'admin', openMenu: true },
  { path: '/admin', who: 'admin' },
  { path: '/admin?q=zz-nobody', who: 'admin' },
];

const variants = [
  { name: 'light 1280', colorScheme: 'light', width: 1280, height: 800 },
  { name: 'dark 1280', colorScheme: 'dark', width: 1280, height: 800 },
  { name: 'light 360', colorScheme: 'light', width: 360, height: 740 },
  { name: 'dark 360', colorScheme: 'dark', width: 360, height: 740 },
] as const;

const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'];

const pathOf = (visit: Visit) => visit.path.split('?')[0];

function expectedMeta(visit: Visit): Meta {
  if (visit.status === 404) return notFound;
  if (visit.status === 403) return forbidden;
  const meta = metaByPath.get(pathOf(visit));
  if (!meta) throw new Error(`no PageMeta for ${visit.path}`);
  return meta;
}

const documentTitle = (path: string, meta: Meta) => (path === '/' && meta === metaByPath.get('/') ? 'Portcullis' : `${meta.title} · Portcullis`);

test('the list of audited visits covers every route, signed out and signed in', () => {
  expect(routes.length).toBeGreaterThanOrEqual(7);
  expect(protectedRoutes.length).toBeGreaterThan(0);
  const missing: string[] = [];
  for (const route of routes) {
    if (!metaByPath.has(route)) missing.push(`${route}: no PageMeta in site.rs`);
    const shown = visits.some((v) => pathOf(v) === route && v.who !== 'visitor' && !v.status);
    if (!shown) missing.push(`${route}: no signed-in visit that shows the page`);
    if (!protectedRoutes.includes(route) && !visits.some((v) => pathOf(v) === route && v.who === 'visitor')) {
      missing.push(`${route}: public, but no signed-out visit`);
    }
  }
  for (const route of protectedRoutes) {
    if (!routes.includes(route)) missing.push(`${route}: protected by policy.rs but not routed`);
  }
  for (const visit of visits) {
    if (!visit.status && !routes.includes(pathOf(visit))) missing.push(`${visit.path}: visited but not a route`);
  }
  expect(visits.some((v) => v.status === 404 && v.who === 'visitor')).toBe(true);
  expect(visits.some((v) => v.status === 403)).toBe(true);
  expect(visits.some((v) => v.openMenu)).toBe(true);
  expect(missing).toEqual([]);
});

/** A page signed in as `who` (a fresh account), or signed out. */
async function pageFor(browser: Browser, who: Who): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (who === 'user') {
    await signIn(page, await newUser(page, 'ax'));
  } else if (who === 'admin') {
    const name = uniqueName('axadmin');
    createUserCli(name, 'admin');
    await signIn(page, name);
  }
  return page;
}

function describeViolations(results: Awaited<ReturnType<AxeBuilder['analyze']>>): string[] {
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

for (const who of ['visitor', 'user', 'admin'] as const) {
  test(`every page passes axe for a ${who}, light and dark, 1280 and 360 px`, async ({ browser }) => {
    test.setTimeout(180_000);
    const page = await pageFor(browser, who);
    const failures: string[] = [];
    for (const visit of visits.filter((v) => v.who === who)) {
      const response = await page.goto(visit.path);
      expect(response?.status(), visit.path).toBe(visit.status ?? 200);
      await hydrated(page);
      const meta = expectedMeta(visit);
      await expect(page, visit.path).toHaveTitle(documentTitle(pathOf(visit), meta));
      await expect(page.locator('meta[name="description"]'), visit.path).toHaveAttribute('content', meta.description);
      if (visit.openMenu) {
        await page.locator('summary').click();
        await expect(page.getByRole('link', { name: 'Account', exact: true })).toBeVisible();
      }
      for (const v of variants) {
        await page.setViewportSize({ width: v.width, height: v.height });
        await page.emulateMedia({ colorScheme: v.colorScheme });
        const results = await new AxeBuilder({ page }).withTags(tags).analyze();
        for (const line of describeViolations(results)) failures.push(`${visit.path} [${v.name}${visit.openMenu ? ', menu open' : ''}] ${line}`);
      }
    }
    expect(failures).toEqual([]);
    await page.context().close();
  });
}

test('the title and description follow client-side navigation', async ({ page }) => {
  await signIn(page, await newUser(page, 'axnav'));
  await expect(page).toHaveTitle(`${metaByPath.get('/dashboard')!.title} · Portcullis`);
  await page.locator('.tiles').getByRole('link', { name: /Sessions/ }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page).toHaveTitle(`${metaByPath.get('/sessions')!.title} · Portcullis`);
  await expect(page.locator('meta[name="description"]')).toHaveAttribute('content', metaByPath.get('/sessions')!.description);
  await page.goBack();
  await expect(page).toHaveTitle(`${metaByPath.get('/dashboard')!.title} · Portcullis`);
});

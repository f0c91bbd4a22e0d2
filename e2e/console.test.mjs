// The console end to end: a real keygate serve on SQLite and the fake
// provider on loopback, driven in headless Debian chromium. One flow, in
// steps: sign in, create a tenant, grant BYOK, test a revoked and a valid
// key, save, see green, rotate, see the audit rows, call the gateway, see
// the usage, manage a platform key, change the tenant's policy and see the
// source calls use follow it (in the page and through the gateway), remove
// the key with confirmation, sign out. Throughout, the
// keys must never reach the DOM, web storage or any response the page got.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, canary, launchBrowser, screenshot, startFake, startKeygate, watchResponses } from './lib.mjs';

const admin = 'kga_' + randomBytes(24).toString('hex');
const good = canary('sk-', 'GOOD');
const revoked = canary('sk-', 'REVOKED');
const rotated = canary('sk-', 'ROTATED');
const platformKey = canary('sk-', 'PLATFORM');
const platformRotated = canary('sk-', 'PLATROT');
const secrets = { admin, good, revoked, rotated, platformKey, platformRotated };

let fake, kg, browser, page, responses;
const pageErrors = [];

before(async () => {
  fake = await startFake([revoked]);
  kg = await startKeygate(admin, fake.env);
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(msg.text());
  });
  responses = watchResponses(page);
});

after(async () => {
  await browser?.close();
  await kg?.stop();
  await fake?.stop();
});

const openai = () => page.locator('.keyrow[data-provider="openai"]');

// leakCheck asserts that no key is in the DOM or web storage now.
async function leakCheck(step, keys = [good, revoked, rotated, platformKey, platformRotated]) {
  const html = await page.content();
  const storage = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
  for (const k of [...keys, admin]) {
    assert.ok(!html.includes(k), `${step}: a key is in the DOM`);
    assert.ok(!storage.includes(k), `${step}: a key is in web storage or cookies`);
  }
  const values = await page.locator('input[type=password]').evaluateAll((els) => els.map((e) => e.value));
  assert.deepEqual(values.filter(Boolean), [], `${step}: a password input still holds a value`);
}

async function confirmDialog(expect) {
  const dlg = page.locator('dialog.confirm[open]');
  await dlg.waitFor();
  const text = await dlg.innerText();
  if (expect) assert.match(text, expect);
  await dlg.locator('button[data-confirm=yes]').click();
  await dlg.waitFor({ state: 'detached' });
  return text;
}

test('console flow', async (t) => {
  await t.test('security headers on the console', async () => {
    const res = await fetch(kg.url + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy'), /default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; .*frame-ancestors 'none'; base-uri 'none'; form-action 'self'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('set-cookie'), null);
  });

  await t.test('a wrong token is refused', async () => {
    await page.goto(kg.url + '/');
    await page.fill('#token', 'kga_wrong');
    await page.click('#signin button[type=submit]');
    await page.locator('#notice.error').waitFor();
    assert.match(await page.locator('#notice').innerText(), /Sign-in failed/);
    await screenshot(page, '01-sign-in');
  });

  await t.test('sign in', async () => {
    await page.fill('#token', admin);
    await page.click('#signin button[type=submit]');
    await page.locator('h1', { hasText: 'Tenants' }).waitFor();
    assert.match(await page.locator('#who').innerText(), /platform_admin/);
    await leakCheck('after sign-in');
  });

  await t.test('create a tenant and grant BYOK with confirmation', async () => {
    await page.fill('#tenant-name', 'acme');
    await page.click('#create-tenant button[type=submit]');
    const row = page.locator('tr[data-tenant="acme"]');
    await row.waitFor();
    assert.equal(await row.locator('.badge').innerText(), 'platform keys');
    await row.locator('button[data-action=grant-byok]').click();
    await confirmDialog(/store their own provider keys/);
    await page.locator('tr[data-tenant="acme"] button[data-action=withdraw-byok]').waitFor();
    assert.equal(await page.locator('tr[data-tenant="acme"] .badge').innerText(), 'BYOK');
    await screenshot(page, '02-tenants');
  });

  await t.test('the keys page lists every provider by kind', async () => {
    await page.locator('tr[data-tenant="acme"] a', { hasText: 'Open' }).click();
    await page.locator('h1', { hasText: 'acme: API keys' }).waitFor();
    const groups = await page.locator('section.group h2').allInnerTexts();
    assert.deepEqual(groups, ['Language models', 'Search', 'Voice']);
    assert.equal(await page.locator('.keyrow').count(), 9);
    assert.equal(await openai().locator('[data-role=status]').getAttribute('data-color'), 'grey');
    assert.equal(await page.locator('#key-openai').getAttribute('type'), 'password');
  });

  await t.test('test a revoked key: rejected, input cleared', async () => {
    await page.fill('#key-openai', revoked);
    await openai().locator('button[data-action=test]').click();
    const res = openai().locator('[data-test-status=rejected]');
    await res.waitFor();
    assert.match(await res.innerText(), /Rejected/);
    assert.equal(await page.inputValue('#key-openai'), '');
    await leakCheck('after testing a revoked key');
  });

  await t.test('test a valid key: model count and names', async () => {
    await page.fill('#key-openai', good);
    await openai().locator('button[data-action=test]').click();
    const res = openai().locator('[data-test-status=valid]');
    await res.waitFor();
    assert.match(await res.innerText(), /Valid \(\d+ models available\)/);
    assert.equal(await page.inputValue('#key-openai'), '');
    await leakCheck('after testing a valid key');
  });

  await t.test('save with test first: green, hint only', async () => {
    await page.fill('#key-openai', good);
    assert.ok(await openai().locator('input[data-role=test-first]').isChecked());
    await openai().locator('button[data-action=save]').click();
    await page.locator('.keyrow[data-provider="openai"] [data-role=status][data-color=green]').waitFor();
    assert.equal(await openai().locator('[data-role=hint]').innerText(), '...' + good.slice(-4));
    assert.equal(await openai().locator('[data-role=version]').innerText(), '1');
    assert.match(await openai().locator('[data-role=source]').innerText(), /tenant/);
    await leakCheck('after save');
    await screenshot(page, '03-keys');
  });

  await t.test('rotate: version 2', async () => {
    await page.fill('#key-openai', rotated);
    await openai().locator('button[data-action=rotate]').click();
    await page.locator('.keyrow[data-provider="openai"] [data-role=version]', { hasText: '2' }).waitFor();
    assert.equal(await openai().locator('[data-role=hint]').innerText(), '...' + rotated.slice(-4));
    assert.equal(await openai().locator('[data-role=status]').getAttribute('data-color'), 'green');
    assert.equal(await openai().locator('button[data-action=rollback]').count(), 1);
    await leakCheck('after rotate');
  });

  await t.test('the audit log shows the changes and a verified chain', async () => {
    await page.locator('.tabs a', { hasText: 'Audit log' }).click();
    await page.locator('#audit-verify [data-ok=true]').waitFor();
    const actions = await page.locator('#audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    for (const a of ['key.tested', 'key.set', 'key.rotated']) assert.ok(actions.includes(a), `audit rows ${actions} lack ${a}`);
    assert.equal(actions.filter((a) => a === 'key.tested').length, 2, 'both tests are audited');
    assert.ok(await page.locator('#audit-more').isHidden(), 'one page only: no "Older events" button');
    await leakCheck('audit page');
    await screenshot(page, '04-audit');
    await page.selectOption('#f-action', 'key.rotated');
    await page.click('#audit-filters button[type=submit]');
    await page.locator('#audit-status', { hasText: 'Events shown: 1.' }).waitFor();
    assert.deepEqual(await page.locator('#audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))), ['key.rotated']);
  });

  await t.test('the audit log pages with next_before', async () => {
    // 60 more audited tests make more than one page of 50.
    for (let i = 0; i < 60; i++) await api(kg.url, admin, 'POST', '/tenants/acme/keys:test', { keys: { exa: 'not-a-valid-exa-key-' + i } });
    await page.selectOption('#f-action', 'key.tested');
    await page.click('#audit-filters button[type=submit]');
    await page.locator('#audit-status', { hasText: 'Events shown: 50; older ones on the next page.' }).waitFor();
    await page.click('#audit-more');
    await page.locator('#audit-status', { hasText: 'Events shown: 62.' }).waitFor();
    assert.ok(await page.locator('#audit-more').isHidden());
    const seqs = await page.locator('#audit tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(seqs.map(Number), [...seqs.map(Number)].sort((a, b) => b - a), 'newest first, no repeats across pages');
    assert.equal(new Set(seqs).size, seqs.length);
  });

  await t.test('a gateway call shows on the usage page as tenant-paid', async () => {
    const tok = await api(kg.url, admin, 'POST', '/tenants/acme/tokens', { name: 'e2e' });
    // A priced model, and one the price table does not know: costed at
    // OpenAI's fallback price and marked estimated.
    for (const model of ['gpt-4o-mini', 'gpt-9-e2e']) {
      const res = await fetch(kg.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { Authorization: `Bearer ${tok.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('x-keygate-key-source'), 'tenant');
      await res.text();
    }
    // The ledger writes asynchronously; wait until the API reports the call.
    const deadline = Date.now() + 20000;
    let rep;
    do {
      rep = await api(kg.url, admin, 'GET', '/tenants/acme/usage?group_by=day,key_source');
      if (rep.tenant_paid.requests > 1) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    assert.equal(rep.tenant_paid.requests, 2);

    await page.locator('.tabs a', { hasText: 'Usage' }).click();
    await page.locator('#usage-chart').waitFor();
    assert.equal(await page.locator('#platform-paid [data-role=cost]').innerText(), rep.platform_paid.cost_usd === 'N/A' ? 'N/A' : '$' + rep.platform_paid.cost_usd);
    assert.match(await page.locator('#tenant-paid').innerText(), /\b2 calls\b/);
    assert.ok((await page.locator('#usage-chart rect.bar-tenant[data-day]').count()) >= 1, 'a tenant-paid bar is drawn');
    assert.equal(await page.locator('#usage-providers tr[data-provider=openai][data-source=tenant]').count(), 1);
    assert.equal(await page.locator('#usage-providers tr[data-provider=openai][data-source=tenant] td[data-priced=estimated]').innerText(), 'estimated (1)');
    await leakCheck('usage page');
    await screenshot(page, '05-usage');
  });

  await t.test('health pages', async () => {
    await page.locator('.tabs a', { hasText: 'Health' }).click();
    await page.locator('#healthy.ok').waitFor();
    assert.equal(await page.locator('table.health tr[data-provider=openai]').getAttribute('data-color'), 'green');
    await screenshot(page, '06-tenant-health');
    await page.locator('#nav a', { hasText: 'Health' }).click();
    await page.locator('#health-counts').waitFor();
    await screenshot(page, '07-platform-health');
    await page.locator('#nav a', { hasText: 'Audit log' }).click();
    await page.locator('#audit-verify [data-ok=true]').waitFor();
    await page.locator('#nav a', { hasText: 'Usage' }).click();
    await page.locator('#usage-chart').waitFor();
    await screenshot(page, '08-platform-usage');
  });

  const platformOpenai = () => page.locator('.keyrow[data-provider="openai"]');

  await t.test('platform keys: test, save, rotate, roll back', async () => {
    await page.locator('#nav a', { hasText: 'Platform keys' }).click();
    await page.locator('h1', { hasText: 'Platform keys' }).waitFor();
    assert.equal(await page.locator('.keyrow').count(), 9);
    assert.equal(await platformOpenai().locator('[data-role=source]').getAttribute('data-source'), 'none');

    await page.fill('#key-openai', revoked);
    await platformOpenai().locator('button[data-action=test]').click();
    await platformOpenai().locator('[data-test-status=rejected]').waitFor();
    assert.equal(await page.inputValue('#key-openai'), '');

    await page.fill('#key-openai', platformKey);
    await platformOpenai().locator('button[data-action=save]').click();
    await page.locator('.keyrow[data-provider="openai"] [data-role=status][data-color=green]').waitFor();
    assert.equal(await platformOpenai().locator('[data-role=hint]').innerText(), '...' + platformKey.slice(-4));
    assert.equal(await platformOpenai().locator('[data-role=source]').getAttribute('data-source'), 'platform');
    let list = await api(kg.url, admin, 'GET', '/platform/keys');
    assert.deepEqual(list.keys.map((k) => [k.provider, k.owner, k.hint, k.version]), [['openai', 'platform', '...' + platformKey.slice(-4), 1]]);
    await leakCheck('after saving a platform key');

    await page.fill('#key-openai', platformRotated);
    await platformOpenai().locator('button[data-action=rotate]').click();
    await page.locator('.keyrow[data-provider="openai"] [data-role=version]', { hasText: '2' }).waitFor();
    assert.equal(await platformOpenai().locator('[data-role=hint]').innerText(), '...' + platformRotated.slice(-4));

    await platformOpenai().locator('button[data-action=rollback]').click();
    await confirmDialog(/previous version/);
    await page.locator('.keyrow[data-provider="openai"] [data-role=hint]', { hasText: platformKey.slice(-4) }).waitFor();
    list = await api(kg.url, admin, 'GET', '/platform/keys');
    assert.equal(list.keys.length, 1);
    assert.equal(list.keys[0].hint, '...' + platformKey.slice(-4));
    await leakCheck('after rolling back a platform key');
    await screenshot(page, '10-platform-keys');
  });

  const policyRow = (provider) => page.locator(`#policy tr[data-provider="${provider}"]`);
  const sourceOf = (provider) => page.locator(`.keyrow[data-provider="${provider}"] [data-role=source]`);
  // savePolicy presses Save and waits for the PUT; the caller then waits
  // for the state the reloaded page must show.
  async function savePolicy() {
    const put = page.waitForResponse((r) => /\/api\/v1\/tenants\/[^/]+\/policy$/.test(r.url()) && r.request().method() === 'PUT');
    await page.click('#policy-save');
    assert.equal((await put).status(), 200);
    await page.locator('#notice', { hasText: 'Policy saved' }).waitFor();
  }
  async function gatewaySource(tok) {
    const res = await fetch(kg.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    await res.text();
    return [res.status, res.headers.get('x-keygate-key-source')];
  }

  await t.test('policy controls: the source calls use follows a change', async () => {
    const gw = await api(kg.url, admin, 'POST', '/tenants/acme/tokens', { name: 'e2e-policy' });
    await page.goto(kg.url + '/#/tenants');
    await page.locator('tr[data-tenant="acme"] a', { hasText: 'Open' }).click();
    await page.locator('#policy').waitFor();
    assert.equal(await sourceOf('openai').getAttribute('data-source'), 'tenant');
    assert.equal(await sourceOf('anthropic').getAttribute('data-source'), 'none');
    assert.equal(await policyRow('').locator('[data-role=mode]').inputValue(), 'tenant_then_platform');
    assert.equal(await policyRow('openai').locator('[data-role=mode]').inputValue(), 'default');
    assert.ok(await policyRow('openai').locator('[data-role=fallback-on-error]').isDisabled(), 'a provider following the default has no switches of its own');

    // OpenAI: platform_only. The tenant's key stays, but calls use the platform key.
    await policyRow('openai').locator('[data-role=mode]').selectOption('platform_only');
    await savePolicy();
    await page.locator('.keyrow[data-provider="openai"] [data-role=source][data-source=platform]').waitFor();
    assert.match(await sourceOf('openai').innerText(), /the platform key \(the tenant's key is kept but not used\) · policy platform_only \(provider rule\)/);
    assert.equal(await sourceOf('anthropic').getAttribute('data-source'), 'none');
    let pol = await api(kg.url, admin, 'GET', '/tenants/acme/policy');
    assert.deepEqual(pol.default, { mode: 'tenant_then_platform', allow_request_keys: false, fallback_on_error: false });
    assert.deepEqual(pol.providers, { openai: { mode: 'platform_only', allow_request_keys: false, fallback_on_error: false } });
    assert.deepEqual(await gatewaySource(gw.token), [200, 'platform'], 'the gateway uses the key the page says');

    // Default: tenant_only with per-request keys and fallback; OpenAI keeps its rule.
    await policyRow('').locator('[data-role=mode]').selectOption('tenant_only');
    await policyRow('').locator('[data-role=allow-request-keys]').check();
    await policyRow('').locator('[data-role=fallback-on-error]').check();
    await savePolicy();
    await page.locator('.keyrow[data-provider="google"] [data-role=source]', { hasText: 'policy tenant_only' }).waitFor();
    assert.equal(await sourceOf('google').getAttribute('data-source'), 'none');
    assert.match(await sourceOf('google').innerText(), /calls fail with provider_key_missing/);
    assert.equal(await sourceOf('openai').getAttribute('data-source'), 'platform');
    assert.ok(await policyRow('').locator('[data-role=allow-request-keys]').isChecked(), 'the page shows the saved policy');
    assert.ok(await policyRow('').locator('[data-role=fallback-on-error]').isChecked());
    assert.equal(await policyRow('openai').locator('[data-role=mode]').inputValue(), 'platform_only');
    pol = await api(kg.url, admin, 'GET', '/tenants/acme/policy');
    assert.deepEqual(pol.default, { mode: 'tenant_only', allow_request_keys: true, fallback_on_error: true });
    assert.deepEqual(Object.keys(pol.providers), ['openai']);
    assert.ok(pol.updated_at);
    await leakCheck('after a policy change');
    await screenshot(page, '11-policy');

    // Back to the defaults: the tenant's own key again.
    await policyRow('openai').locator('[data-role=mode]').selectOption('default');
    await policyRow('').locator('[data-role=mode]').selectOption('tenant_then_platform');
    await policyRow('').locator('[data-role=allow-request-keys]').uncheck();
    await policyRow('').locator('[data-role=fallback-on-error]').uncheck();
    await savePolicy();
    await page.locator('.keyrow[data-provider="openai"] [data-role=source][data-source=tenant]').waitFor();
    pol = await api(kg.url, admin, 'GET', '/tenants/acme/policy');
    assert.deepEqual(pol.default, { mode: 'tenant_then_platform', allow_request_keys: false, fallback_on_error: false });
    assert.deepEqual(pol.providers, {});
    assert.deepEqual(await gatewaySource(gw.token), [200, 'tenant']);
  });

  await t.test('platform keys: remove with a confirmation', async () => {
    await page.locator('#nav a', { hasText: 'Platform keys' }).click();
    await page.locator('h1', { hasText: 'Platform keys' }).waitFor();
    await platformOpenai().locator('button[data-action=remove]').click();
    await confirmDialog(/tenants without one fail with provider_key_missing/);
    await page.locator('.keyrow[data-provider="openai"] [data-role=hint]', { hasText: '—' }).waitFor();
    assert.deepEqual((await api(kg.url, admin, 'GET', '/platform/keys')).keys, []);
    await leakCheck('after removing the platform key');
  });

  await t.test('remove with a confirmation that says what calls do next', async () => {
    await page.goto(kg.url + '/#/tenants');
    await page.locator('tr[data-tenant="acme"] a', { hasText: 'Open' }).click();
    await openai().locator('button[data-action=remove]').click();
    const text = await confirmDialog(/Calls to OpenAI will then use/);
    assert.match(text, /no platform key: calls fail with provider_key_missing/);
    await page.locator('.keyrow[data-provider="openai"] [data-role=hint]', { hasText: '—' }).waitFor();
    assert.match(await page.locator('#notice').innerText(), /key removed/);
    await leakCheck('after remove');
    await screenshot(page, '09-keys-removed');
  });

  await t.test('sign out forgets the token', async () => {
    await page.click('#signout');
    await page.locator('#signin').waitFor();
    await page.goto(kg.url + '/#/t/acme/keys');
    await page.locator('#signin').waitFor();
    await leakCheck('after sign-out');
  });

  await t.test('no response the page received carried a key', async () => {
    const bodies = await responses();
    assert.ok(bodies.some((b) => b.url.includes('/api/v1/tenants/')), 'the page called the API');
    for (const b of bodies) {
      for (const [name, k] of Object.entries(secrets)) {
        assert.ok(!b.text.includes(k), `the ${name} key is in the response of ${b.url}`);
      }
    }
  });

  await t.test('no script error and no Content-Security-Policy violation', () => {
    assert.deepEqual(pageErrors, []);
  });

  await t.test('the server log never held a key', () => {
    const logs = kg.logs.join('\n');
    for (const k of [good, revoked, rotated, platformKey, platformRotated]) assert.ok(!logs.includes(k), 'a provider key is in the server log');
  });
});

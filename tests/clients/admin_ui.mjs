// Drives the admin UI of a running edsd in headless Chromium (Debian's, through playwright-core):
// first-boot setup with the token, a wrong password until lockout, sign-in, a FHIR token created
// and revoked, an HL7 sender connected over MLLP listed on the feeds page, a release computed by
// the admin and approved by a reviewer, both languages.
// Saves a screenshot of every page into OUT_DIR. Exit 0 when every step held.
// Usage: node admin_ui.mjs BASE_URL SETUP_TOKEN OUT_DIR PERIOD UPSTREAM_URL UPSTREAM_CA_FILE
//        MLLP_PORT
// (the upstream the setup page connects the box to; the box's MLLP port on 127.0.0.1)
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';

const [base, token, outDir, period, upstreamUrl, upstreamCaFile, mllpPort] = process.argv.slice(2);
const PASSWORD = 'Correct-Horse-Battery-9';
mkdirSync(outDir, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'eds-ui-'));

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

let page = null;
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  ignoreHTTPSErrors: true,
  viewport: { width: 1200, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
let failed = false;
try {
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Refused requests (401, 429) are expected; script errors are not.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  page.on('dialog', (d) => d.accept());
  const shot = (name) => page.screenshot({ path: join(outDir, name + '.png'), fullPage: true });

  // First load: the browser is sent to setup, and the whole page is small.
  await page.goto(base + '/');
  await page.waitForSelector('#setup-form');
  const bytes = await page.evaluate(() => [...performance.getEntriesByType('navigation'),
    ...performance.getEntriesByType('resource')].reduce((n, e) => n + e.decodedBodySize, 0));
  check(bytes > 0 && bytes < 300 * 1024, 'first load is ' + bytes + ' bytes, under 300 KB');
  await shot('setup');
  await page.fill('#setup-form [name=token]', token);
  await page.fill('#setup-form [name=name]', 'alice');
  await page.fill('#setup-form [name=password]', PASSWORD);
  await page.fill('#setup-form [name=hospital_name]', 'Centre hospitalier de Test');
  await page.fill('#setup-form [name=upstream_url]', upstreamUrl);
  await page.fill('#setup-form [name=upstream_ca_pem]', readFileSync(upstreamCaFile, 'utf8'));
  await page.click('#setup-form button[type=submit]');
  await page.waitForSelector('#node-fingerprint');
  check((await page.textContent('#node-fingerprint')).startsWith('SHA256:'), 'setup shows the node fingerprint');
  await shot('setup-done');
  await page.click('#go-login');
  await page.waitForSelector('#login-form');
  await shot('login');

  // Wrong passwords until the account is locked out.
  let last = '';
  for (let i = 0; i < 6; i++) {
    await page.fill('#login-form [name=name]', 'mallory');
    await page.fill('#login-form [name=password]', 'not-the-password-' + i);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-form .msg.err');
    last = await page.textContent('#login-form .msg.err');
  }
  check(/too many failed sign-ins/.test(last), 'the sixth wrong password meets the lockout: ' + last);
  await shot('login-locked');

  const signIn = async (name) => {
    await page.goto(base + '/#/login');
    await page.waitForSelector('#login-form');
    await page.fill('#login-form [name=name]', name);
    await page.fill('#login-form [name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction((n) => document.querySelector('#who').textContent.startsWith(n + ' '), name);
    await page.waitForSelector('#nav a');
  };
  await signIn('alice');
  await page.waitForSelector('svg.chart');
  check((await page.textContent('#nav')).includes('Publications'), 'French by default');
  await shot('dashboard');

  // An HL7 sender that stays connected after its first message was acknowledged.
  const sender = connect(Number(mllpPort), '127.0.0.1');
  await new Promise((resolve, reject) => { sender.once('connect', resolve); sender.once('error', reject); });
  const acked = new Promise((resolve) => sender.once('data', (d) => resolve(String(d))));
  sender.write('\x0bMSH|^~\\&|LAB|CH|EDS|EDS|20260101120000||ADT^A04^ADT_A01|UI-1|P|2.5\r' +
    'PID|1||UI-IPP-1^^^CH^PI||NOM^PRENOM||19700101|F\rPV1|1|O\r\x1c\r');
  check((await acked).includes('MSA|AA|UI-1'), 'the HL7 message over MLLP is acknowledged');
  await page.click('#nav a[href="#/feeds"]');
  await page.waitForSelector('tr.mllp-peer');
  check((await page.textContent('tr.mllp-peer')).includes('127.0.0.1'), 'the connected HL7 sender is listed');
  await page.fill('#token-form [name=name]', 'dpi');
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#token-value');
  check((await page.textContent('#token-value')).length >= 32, 'a new FHIR token is shown once');
  await shot('feeds');
  sender.end();
  await page.click('button[data-revoke="dpi"]');
  await page.waitForFunction(() => !document.querySelector('button[data-revoke="dpi"]'));
  check(!(await page.isVisible('#token-value')), 'the token is no longer shown after revocation');

  await page.click('#nav a[href="#/system"]');
  await page.waitForSelector('#user-form');
  await page.fill('#user-form [name=name]', 'rita');
  await page.fill('#user-form [name=password]', PASSWORD);
  await page.selectOption('#user-form [name=role]', 'reviewer');
  await page.click('#user-form button[type=submit]');
  await page.waitForSelector('text=rita');
  await shot('system');

  await page.click('#nav a[href="#/releases"]');
  await page.fill('#compute-form [name=period]', period);
  await page.click('#compute-form button[type=submit]');
  await page.waitForSelector('#release-state');
  await shot('release-admin');
  check((await page.textContent('#release-state')) === 'checked', 'the computed release waits for review');
  check(await page.locator('td.masked').count() > 0, 'masked cells are marked');
  check(!(await page.isVisible('#approve-form')), 'an admin is not offered approval');
  await page.click('#nav a[href="#/audit"]');
  await page.waitForSelector('#verify-chain');
  await page.click('#verify-chain');
  await page.waitForSelector('.msg.ok');
  await shot('audit');

  await page.click('#logout');
  await page.waitForSelector('#login-form');
  await signIn('rita');
  await page.click('#nav a[href="#/releases"]');
  await page.click('text=Ouvrir');
  await page.waitForSelector('#approve-form');
  await shot('release-review');
  await page.fill('#approve-form [name=comment]', 'Vérifié, rien d\'identifiant');
  await page.click('#approve-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#release-state')?.textContent === 'approved');
  check(true, 'the reviewer approved the release');
  await shot('release-approved');

  await page.click('#nav a[href="#/objections"]');
  await page.waitForSelector('#erase-form');
  await shot('objections');
  await page.selectOption('#lang', 'en');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('Releases'));
  check(true, 'English on request');
  await shot('objections-en');
  await page.reload();
  await page.waitForSelector('#nav a');
  check((await page.textContent('#nav')).includes('Releases'), 'the language is kept per user');

  // The admin sends the approved release upstream with "send now"; the hub acknowledges it.
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  await signIn('alice');
  await page.click('#nav a[href="#/system"]');
  await page.waitForSelector('#sync-now');
  await page.click('#sync-now');
  await page.waitForSelector('.msg.ok');
  check((await page.textContent('.msg.ok')).includes(': 1'), 'one release sent: ' + await page.textContent('.msg.ok'));
  await shot('sync-sent');
  await page.click('#nav a[href="#/releases"]');
  await page.click('text=Ouvrir');
  await page.waitForSelector('#release-state');
  check((await page.textContent('#release-state')) === 'delivered', 'the release page shows it delivered: ' +
    await page.textContent('#release-state'));
  await shot('release-delivered');
  check(errors.length === 0, 'no script errors: ' + errors.join('; '));
} catch (e) {
  failed = true;
  console.error(e);
  if (page) await page.screenshot({ path: join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

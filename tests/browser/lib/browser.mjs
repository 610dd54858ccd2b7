// browser.mjs: headless Debian Chromium through playwright-core, and the
// checks every page of the web page gets (node/WEB.md "On every page"):
// structure, labels and error markup, response headers, axe-core with the
// WCAG 2.x A/AA tags, reflow at 320 px and screenshots at 320 and 1280 px.
//
// A Member is one browser context (one person's cookies) in one of three
// modes: 'js' (mouse, JavaScript on), 'nojs' (mouse, JavaScript off) and
// 'keyboard' (Tab/Enter/Space only, every focus stop checked for a visible,
// unobscured focus indicator). Checks that should not stop a flow are
// collected in a Problems list that each test asserts empty at its end.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { sourceDir } from './kithd.mjs';

const require = createRequire(import.meta.url);
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
export const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
export const artifactsDir = process.env.KITH_BROWSER_ARTIFACTS ||
  path.join(sourceDir, 'build', 'browser-artifacts');

const CHROMIUM = process.env.KITH_CHROMIUM || '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialing out, and
// this machine's closed network refuses it.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];
const VIEWPORT = { width: 1280, height: 800 };

// launch(): a headless Chromium with a fresh profile (playwright-core makes a
// new --user-data-dir for every launch). Never downloads a browser.
export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set KITH_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export class Problems {
  constructor(mode, { quiet = false } = {}) {
    this.mode = mode;
    this.quiet = quiet;
    this.list = [];
  }

  add(where, what) {
    const line = `[${this.mode}] ${where}: ${what}`;
    if (this.list.includes(line)) return;
    this.list.push(line);
    if (!this.quiet) console.log(`# PROBLEM ${line}`);
  }

  report() {
    return `${this.list.length} problem(s):\n${this.list.join('\n')}`;
  }
}

// Everything WEB.md says about every page that can be read from the DOM.
// Runs in the page (Playwright's utility world, so also with JS off).
function domChecks() {
  const out = [];
  const q = (s, r = document) => r.querySelector(s);
  const qa = (s, r = document) => [...r.querySelectorAll(s)];
  const txt = (e) => (e ? e.textContent.replace(/\s+/g, ' ').trim() : '');
  const desc = (e) => `<${e.tagName.toLowerCase()}${e.id ? ` id="${e.id}"` : ''}` +
    `${e.getAttribute('name') ? ` name="${e.getAttribute('name')}"` : ''}>`;

  if (document.documentElement.getAttribute('lang') !== 'en') out.push('<html> lang is not "en"');
  const title = document.title;
  if (!title.endsWith(' – Kith')) out.push(`title "${title}" does not end with " – Kith"`);
  const summary = q('.kith-error-summary');
  if (summary && !title.startsWith('Error: ')) out.push(`title "${title}" does not start with "Error: " but the page shows errors`);
  if (!summary && title.startsWith('Error: ')) out.push(`title "${title}" starts with "Error: " but there is no error summary`);

  const skip = q('a.kith-skip-link');
  const firstFocusable = q('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])');
  if (!skip) out.push('no a.kith-skip-link');
  else {
    if (skip.getAttribute('href') !== '#main') out.push('skip link href is not "#main"');
    if (txt(skip) !== 'Skip to main content') out.push(`skip link text is "${txt(skip)}"`);
    if (firstFocusable !== skip) out.push(`the first focusable element is ${desc(firstFocusable)}, not the skip link`);
  }

  const signedIn = !!q('header form[action="/signout"]');
  const nav = q('header nav[aria-label="Main"]');
  if (!q('header')) out.push('no <header>');
  if (!nav) out.push('no <nav aria-label="Main"> in <header>');
  else {
    const got = qa('a', nav).map((a) => `${txt(a)} ${a.getAttribute('href')}`);
    const want = signedIn
      ? ['Your groups /groups', 'Your posts /mine', 'Your account /account', 'Help /help']
      : ['Sign in /signin', 'Create an account /signup', 'Help /help'];
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      out.push(`nav links are ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
  if (signedIn) {
    const f = q('header form[action="/signout"]');
    const b = q('button, input[type=submit]', f);
    if ((f.getAttribute('method') || '').toLowerCase() !== 'post') out.push('sign-out form is not POST');
    if (!b || (txt(b) || b.value) !== 'Sign out') out.push('sign-out form has no "Sign out" button');
  }
  const site = q('header a[href="/"]');
  if (!site) out.push('no site name link to "/" in <header>');

  const mains = qa('main');
  if (mains.length !== 1 || mains[0].id !== 'main') out.push(`want one <main id="main">, found ${mains.length}`);
  const h1s = qa('h1');
  if (h1s.length !== 1) out.push(`want exactly one <h1>, found ${h1s.length}`);
  else if (mains[0] && !mains[0].contains(h1s[0])) out.push('the <h1> is not inside <main>');

  const footer = q('footer');
  if (!footer) out.push('no <footer>');
  else {
    const got = qa('a', footer).map((a) => `${txt(a)} ${a.getAttribute('href')}`);
    for (const w of ['Help /help', 'Glossary /glossary', 'Text size and contrast /settings', 'Node status /status']) {
      if (!got.includes(w)) out.push(`footer has no link "${w}"`);
    }
  }

  for (const f of qa('form')) {
    if ((f.getAttribute('method') || 'get').toLowerCase() !== 'post') {
      out.push(`form action="${f.getAttribute('action')}" is not method="post"`);
      continue;
    }
    const c = q('input[type=hidden][name=csrf]', f);
    if (!c || !/^[0-9a-f]{64}$/.test(c.value)) out.push(`form action="${f.getAttribute('action')}" has no csrf token`);
  }

  if (q('script')) out.push('the page has a <script> (WEB.md: no JavaScript at all)');
  const handlers = qa('*').filter((e) => [...e.attributes].some((at) => /^on/i.test(at.name)));
  if (handlers.length) out.push(`inline event handlers on ${handlers.map(desc).slice(0, 3).join(', ')}`);

  const ids = new Map();
  for (const e of qa('[id]')) ids.set(e.id, (ids.get(e.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) out.push(`id "${id}" is used ${n} times`);

  const fields = qa('input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea');
  for (const el of fields) {
    // A hidden field is for password managers (a username beside a new
    // passphrase), not for people.
    if (el.closest('[hidden]')) continue;
    const name = el.getAttribute('name');
    const group = el.type === 'radio' || el.type === 'checkbox';
    if (!group && el.id !== name) out.push(`${desc(el)}: id does not equal name`);
    if (!el.id || !q(`label[for="${CSS.escape(el.id)}"]`)) out.push(`${desc(el)} has no <label for>`);
    const by = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    for (const id of by) if (!document.getElementById(id)) out.push(`${desc(el)}: aria-describedby names "${id}", which is not on the page`);
    if (group) continue;
    const hint = document.getElementById(`${name}-hint`);
    if (hint && !by.includes(hint.id)) out.push(`${desc(el)}: hint ${name}-hint is not in aria-describedby`);
    if (hint && !hint.classList.contains('kith-hint')) out.push(`${name}-hint has no class kith-hint`);
    const err = document.getElementById(`${name}-error`);
    if (err) {
      if (!err.classList.contains('kith-error-message')) out.push(`${name}-error has no class kith-error-message`);
      const vh = q('.kith-visually-hidden', err);
      if (!vh || txt(vh) !== 'Error:') out.push(`${name}-error does not start with a visually hidden "Error:"`);
      if (!by.includes(err.id)) out.push(`${desc(el)}: ${name}-error is not in aria-describedby`);
      if (el.getAttribute('aria-invalid') !== 'true') out.push(`${desc(el)} has an error but no aria-invalid="true"`);
    } else if (el.getAttribute('aria-invalid') === 'true') {
      out.push(`${desc(el)} has aria-invalid="true" but no ${name}-error`);
    }
  }

  const errors = {};
  if (summary) {
    if (summary.getAttribute('role') !== 'alert') out.push('error summary has no role="alert"');
    if (summary.getAttribute('tabindex') !== '-1') out.push('error summary has no tabindex="-1"');
    if (txt(q('h2', summary)) !== 'There is a problem') out.push('error summary h2 is not "There is a problem"');
    if (mains[0] && mains[0].firstElementChild !== summary) out.push('error summary is not the first thing in <main>');
    for (const a of qa('a', summary)) {
      const href = a.getAttribute('href') || '';
      const id = href.slice(1);
      errors[id] = txt(a);
      if (!href.startsWith('#') || !document.getElementById(id)) {
        out.push(`error summary link "${href}" names no element on the page`);
        continue;
      }
      const msg = document.getElementById(`${id}-error`);
      if (!msg) out.push(`error summary links to #${id}, which has no ${id}-error message`);
      else if (txt(msg) !== `Error: ${txt(a)}`) out.push(`#${id}-error says "${txt(msg)}", the summary says "${txt(a)}"`);
    }
    const msgs = qa('.kith-error-message').length;
    if (msgs !== Object.keys(errors).length) out.push(`${msgs} error messages but ${Object.keys(errors).length} summary links`);
  } else if (q('.kith-error-message')) {
    out.push('error messages without an error summary');
  }
  const notice = q('.kith-notice');
  if (notice) {
    if (notice.getAttribute('role') !== 'status') out.push('notice has no role="status"');
    if (mains[0] && mains[0].firstElementChild !== notice) out.push('notice is not the first thing in <main>');
  }
  return {
    problems: out,
    signedIn,
    h1: txt(h1s[0]),
    title,
    errors,
    notice: txt(notice),
    classes: document.documentElement.className,
  };
}

// The focused element, and whether its focus can be seen: an outline or a
// box shadow, inside the viewport, not covered by something else.
function focusInfo(target) {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return { none: true, same: false };
  const cs = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  const shadow = cs.boxShadow && cs.boxShadow !== 'none';
  const inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
    r.top < innerHeight && r.left < innerWidth;
  const top = inView ? document.elementFromPoint(Math.min(r.left + r.width / 2, innerWidth - 1),
    Math.min(r.top + r.height / 2, innerHeight - 1)) : null;
  const covered = !!top && top !== e && !e.contains(top) && !top.contains(e) &&
    !(e.labels && [...e.labels].some((l) => l.contains(top)));
  const label = `<${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.getAttribute('href') ? ` href="${e.getAttribute('href')}"` : ''}> "${(e.textContent || e.value || '').replace(/\s+/g, ' ').trim().slice(0, 40)}"`;
  return { none: false, same: e === target, visible: outline || shadow, inView, covered, label };
}

export class Member {
  // ctx: { browser, base, mode, problems, auditPage (shared), shots }
  constructor(ctx, who) {
    this.ctx = ctx;
    this.who = who;
    this.mode = ctx.mode;
    this.problems = ctx.problems;
  }

  async open() {
    this.context = await this.ctx.browser.newContext({
      javaScriptEnabled: this.mode !== 'nojs',
      viewport: VIEWPORT,
      acceptDownloads: true,
    });
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(15000);
    this.last = null;
    this.page.on('response', (res) => this.onResponse(res));
    return this;
  }

  async close() {
    await this.context?.close();
  }

  onResponse(res) {
    const req = res.request();
    if (!req.isNavigationRequest() || req.frame() !== this.page.mainFrame()) return;
    const u = new URL(res.url());
    const h = res.headers();
    const where = `${req.method()} ${u.pathname}${u.search}`;
    if (!u.pathname.startsWith('/static/')) {
      if (!/\bno-store\b/.test(h['cache-control'] || '')) this.problems.add(where, `Cache-Control is "${h['cache-control']}", not no-store`);
    }
    if (h['content-security-policy'] !== CSP) this.problems.add(where, `Content-Security-Policy is "${h['content-security-policy']}"`);
    if (h['x-content-type-options'] !== 'nosniff') this.problems.add(where, 'no X-Content-Type-Options: nosniff');
    if (h['referrer-policy'] !== 'no-referrer') this.problems.add(where, 'no Referrer-Policy: no-referrer');
    const st = res.status();
    if (st < 300 || st >= 400) {
      const ct = h['content-type'] || '';
      if (!h['content-disposition'] && ct !== 'text/html; charset=utf-8') this.problems.add(where, `Content-Type is "${ct}"`);
      this.last = { status: st, url: res.url(), headers: h, method: req.method() };
    }
  }

  url() {
    const u = new URL(this.page.url());
    return u.pathname + u.search + u.hash;
  }

  async goto(p) {
    await this.page.goto(this.ctx.base + p);
  }

  // Run act() and wait for the navigation it starts to load.
  async navigate(act) {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), act()]);
  }

  main() {
    return this.page.locator('main');
  }

  link(name, scope = this.page) {
    return scope.getByRole('link', { name, exact: true });
  }

  button(name, scope = this.main()) {
    return scope.getByRole('button', { name, exact: true });
  }

  field(name) {
    return this.page.locator(`[name="${name}"]:not([type=hidden])`).first();
  }

  // Keyboard mode: press Tab until `loc` has focus, checking each stop.
  async tabTo(loc) {
    const el = await loc.elementHandle();
    if (!el) throw new Error('tabTo: no such element');
    for (let i = 0; i < 200; i++) {
      await this.page.keyboard.press('Tab');
      const f = await this.page.evaluate(focusInfo, el);
      if (!f.none) {
        const where = `${this.url().split('#')[0]}`;
        if (!f.visible) this.problems.add(where, `focus is not visible on ${f.label} (no outline or box-shadow)`);
        if (!f.inView) this.problems.add(where, `focused ${f.label} is outside the viewport`);
        else if (f.covered) this.problems.add(where, `focused ${f.label} is covered by another element`);
      }
      if (f.same) return;
    }
    throw new Error(`tabTo: 200 Tab presses never reached ${loc}`);
  }

  // Type into a field (replacing what is in it).
  async fill(name, value) {
    const loc = this.field(name);
    if (this.mode !== 'keyboard') {
      await loc.fill(value);
      return;
    }
    await this.tabTo(loc);
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Delete');
    if (value) await this.page.keyboard.type(value);
  }

  // Choose a radio button by its name and value.
  async choose(name, value) {
    const want = this.page.locator(`input[type=radio][name="${name}"][value="${value}"]`);
    if (this.mode !== 'keyboard') {
      await want.check();
      return;
    }
    // Tab lands on the checked radio of a group; arrows move the choice.
    const checked = this.page.locator(`input[type=radio][name="${name}"]:checked`);
    await this.tabTo((await checked.count()) ? checked : this.page.locator(`input[type=radio][name="${name}"]`).first());
    for (let i = 0; i < 6 && !(await want.isChecked()); i++) await this.page.keyboard.press('ArrowDown');
    if (!(await want.isChecked())) throw new Error(`choose: arrows never reached ${name}=${value}`);
  }

  // Follow a link or press a button; waits for the page it loads unless
  // nav is false. key: the key that activates it in keyboard mode.
  async activate(loc, { nav = true, key = 'Enter' } = {}) {
    const act = async () => {
      if (this.mode === 'keyboard') {
        await this.tabTo(loc);
        await this.page.keyboard.press(key);
      } else {
        await loc.click();
      }
    };
    this.lastFormPage = new URL(this.page.url()).pathname;
    if (nav) await this.navigate(act);
    else await act();
  }

  async download(loc) {
    const [dl] = await Promise.all([this.page.waitForEvent('download'), this.activate(loc, { nav: false })]);
    const file = await dl.path();
    return { name: dl.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
  }

  // Check the page on screen: structure, headers seen, reflow, screenshots
  // and axe. Returns what domChecks read (h1, errors, notice, ...).
  async audit(name, { status = 200 } = {}) {
    const where = `${name} (${this.url()})`;
    const d = await this.page.evaluate(domChecks);
    for (const p of d.problems) this.problems.add(where, p);
    if (this.last && this.last.status !== status) this.problems.add(where, `HTTP status ${this.last.status}, want ${status}`);
    await this.reflowAndShots(name, where);
    if (this.ctx.axe) await this.axe(where);
    return d;
  }

  async reflowAndShots(name, where) {
    const n = String(++this.ctx.shots).padStart(2, '0');
    const dir = path.join(artifactsDir, this.ctx.label);
    for (const width of [320, 1280]) {
      await this.page.setViewportSize({ width, height: width === 320 ? 640 : 800 });
      if (width === 320) {
        const sw = await this.page.evaluate(() => document.scrollingElement.scrollWidth);
        if (sw > 320) this.problems.add(where, `scrolls sideways at 320 px (scrollWidth ${sw})`);
      }
      if (this.ctx.screenshots) {
        await this.page.screenshot({ path: path.join(dir, `${n}-${name}-${width}.png`), fullPage: true });
      }
    }
    await this.page.setViewportSize(VIEWPORT);
  }

  // axe-core on a copy of this page in a JS-enabled audit page that may
  // inject script (bypassCSP). The audit page sits on the node's origin, so
  // the copy's stylesheets and icons come from the node as usual; axe is
  // injected once and stays across setContent (document.open keeps the
  // window).
  async axe(where) {
    const html = await this.page.content();
    const ap = this.ctx.auditPage;
    if (!ap.url().startsWith(this.ctx.base)) await ap.goto(`${this.ctx.base}/help`);
    await ap.setContent(html, { waitUntil: 'load' });
    if (!(await ap.evaluate(() => typeof window.axe === 'object'))) await ap.addScriptTag({ path: AXE_PATH });
    const violations = await ap.evaluate(async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((nd) => `${nd.target.join(' ')}${nd.failureSummary ? ` [${nd.failureSummary.replace(/\s+/g, ' ').slice(0, 160)}]` : ''}`),
      }));
    }, AXE_TAGS);
    for (const v of violations) {
      for (const t of v.targets) this.problems.add(where, `axe ${v.id} (${v.impact}): ${v.help}: ${t}`);
    }
  }
}

// A test run in one mode: the browser, the axe page and the problem list.
// label names the artifacts folder and the problems (default: mode).
export async function openRun(mode, base, { axe = true, screenshots = true, label = mode } = {}) {
  const browser = await launch();
  const ctx = { browser, base, mode, label, problems: new Problems(label), shots: 0, axe, screenshots };
  if (screenshots) {
    fs.rmSync(path.join(artifactsDir, label), { recursive: true, force: true });
    fs.mkdirSync(path.join(artifactsDir, label), { recursive: true });
  }
  if (axe) {
    const ac = await browser.newContext({ bypassCSP: true, viewport: VIEWPORT });
    ctx.auditPage = await ac.newPage();
  }
  ctx.member = async (who) => new Member(ctx, who).open();
  ctx.close = () => browser.close();
  return ctx;
}

// flow.mjs: what a member does on the web page, as steps that run the same
// way in every mode (mouse with JavaScript, mouse without it, keyboard
// only): create an account, start a group, post, reply, edit, delete,
// export, invite, a second member joins, change display name and
// passphrase, text size and contrast, sign out and sign in again. Steps
// marked `extra` (help pages, node status, not-found pages, sign-in slowed
// down) run in the 'js' mode only; `independent` steps build nothing that
// later steps need, so their failure does not stop the flow. Every page met
// is audited (browser.mjs).
import assert from 'node:assert/strict';

const HEX64 = /^[0-9a-f]{64}$/;

function pathOf(m) {
  return new URL(m.page.url()).pathname;
}

function queryOf(m, key) {
  return new URL(m.page.url()).searchParams.get(key);
}

// A redirect target that WEB.md names: a difference is a problem, not a
// stop, when the flow can go on from the page reached.
function softPath(m, want) {
  const got = pathOf(m);
  if (got !== want) m.problems.add(`after a form on ${m.lastFormPage || '?'}`, `redirected to ${got}, WEB.md says ${want}`);
}

// The form errors must be exactly these, field by field.
function assertErrors(d, want) {
  assert.deepEqual(d.errors, want, `error summary: ${JSON.stringify(d.errors)}`);
}

async function text(loc) {
  return ((await loc.textContent()) || '').replace(/\s+/g, ' ').trim();
}

// The article of one post on a thread page.
function article(m, pid) {
  return m.page.locator(`article[id="p-${pid}"]`);
}

export function steps(mode) {
  const s = {}; // shared between steps
  const pass = 'correct horse battery';
  const pass2 = 'purple lamp on the stairs';
  const nameA = `ash_${mode}`;
  const nameB = `bo_${mode}`;
  const groupName = `Night owls ${mode}`;
  const title = `First meetup ${mode}`;
  const isJs = mode === 'js';

  const list = [
    ['the front page sends a visitor to sign in', async (run) => {
      s.A = await run.member('A');
      await s.A.goto('/');
      assert.equal(pathOf(s.A), '/signin');
      const d = await s.A.audit('signin');
      assert.equal(d.h1, 'Sign in');
      assert.equal(d.signedIn, false);
      assert.equal(await s.A.field('name').getAttribute('autocomplete'), 'username');
      assert.equal(await s.A.field('passphrase').getAttribute('type'), 'password');
      assert.equal(await s.A.field('passphrase').getAttribute('autocomplete'), 'current-password');
    }],

    ['create an account: the form and its errors', async () => {
      const A = s.A;
      await A.activate(A.link('Create an account', A.main()));
      assert.equal(pathOf(A), '/signup');
      let d = await A.audit('signup');
      assert.equal(d.h1, 'Create an account');
      assert.equal(await text(A.page.locator('#name-hint')), 'Other members see this name. It does not need to be your real name.');
      assert.equal(await text(A.page.locator('#passphrase-hint')), 'At least 8 characters. A few words you will remember is best.');
      assert.equal(await A.field('passphrase').getAttribute('autocomplete'), 'new-password');
      await A.activate(A.button('Create account'));
      d = await A.audit('signup-error-empty', { status: 400 });
      assertErrors(d, { name: 'Enter a name', passphrase: 'Enter a passphrase' });
      await A.fill('name', nameA);
      await A.fill('passphrase', 'short');
      await A.activate(A.button('Create account'), { key: 'Space' });
      d = await A.audit('signup-error-short', { status: 400 });
      assertErrors(d, { passphrase: 'The passphrase must be at least 8 characters' });
      assert.equal(await A.field('name').inputValue(), nameA, 'the name typed is kept');
      assert.equal(await A.field('passphrase').inputValue(), '', 'a passphrase is never sent back');
    }],

    ['create an account: signed in, with a safe session cookie', async () => {
      const A = s.A;
      await A.fill('name', nameA);
      await A.fill('passphrase', pass);
      await A.activate(A.button('Create account'));
      assert.equal(pathOf(A), '/groups');
      const d = await A.audit('groups');
      assert.equal(d.h1, 'Your groups');
      assert.equal(d.signedIn, true);
      const c = (await A.context.cookies()).find((k) => k.name === 'kith_session');
      assert.ok(c, 'a kith_session cookie');
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Strict');
      assert.match(c.value, HEX64);
    }],

    ['start a group', async () => {
      const A = s.A;
      await A.activate(A.button('Start group'));
      let d = await A.audit('groups-error', { status: 400 });
      assertErrors(d, { name: 'Enter a group name' });
      await A.fill('name', groupName);
      await A.activate(A.button('Start group'));
      assert.match(pathOf(A), /^\/g\/[0-9a-f]{64}$/);
      assert.equal(queryOf(A, 'done'), 'started');
      s.gid = pathOf(A).slice(3);
      d = await A.audit('group');
      assert.equal(d.h1, groupName);
      assert.ok(d.notice.length > 0, 'a notice that the group started');
      for (const l of ['All conversations', 'Write a post', 'Invite someone']) {
        assert.equal(await A.link(l, A.main()).count(), 1, `link "${l}"`);
      }
    }],

    ['a topic lists its conversations', async () => {
      const A = s.A;
      const topics = A.main().locator(`a[href^="/g/${s.gid}/threads?topic="]`);
      assert.ok((await topics.count()) > 0, 'the group has topics');
      s.topic = new URL(await topics.first().getAttribute('href'), 'http://x').searchParams.get('topic');
      await A.activate(topics.first());
      const d = await A.audit('threads-topic');
      assert.equal(d.h1, s.topic);
      const write = A.link('Write a post', A.main());
      assert.equal(new URL(await write.getAttribute('href'), 'http://x').searchParams.get('topic'), s.topic);
      await A.activate(write);
    }],

    ['write a post, with its prompts and errors', async () => {
      const A = s.A;
      assert.equal(pathOf(A), `/g/${s.gid}/write`);
      let d = await A.audit('write');
      assert.equal(d.h1, 'Write a post');
      assert.equal(await A.field('topic').inputValue(), s.topic, 'the topic is preselected');
      const first = A.field('topic').locator('option').first();
      assert.equal(await text(first), 'No topic');
      assert.equal(await first.getAttribute('value'), '');
      const aside = A.page.locator('aside[aria-labelledby="prompts-title"]');
      assert.equal(await text(aside.locator('h2#prompts-title')), 'Ideas to get you started');
      assert.ok((await text(aside)).length > 'Ideas to get you started'.length, 'the aside holds prompts');
      await A.activate(A.button('Publish'));
      d = await A.audit('write-error', { status: 400 });
      assertErrors(d, { body: 'Write something in your post' });
      await A.fill('title', title);
      await A.fill('body', 'Hello **friends**.\n\n<script>alert(1)</script>\n\n[a link](javascript:alert(2))');
      await A.activate(A.button('Publish'));
      assert.match(pathOf(A), /^\/p\/[0-9a-f]{64}$/);
      assert.equal(queryOf(A, 'done'), 'published');
      s.root = pathOf(A).slice(3);
      d = await A.audit('thread');
      assert.equal(d.h1, title);
      const art = article(A, s.root);
      assert.equal(await art.locator('.kith-body strong').first().textContent(), 'friends', 'Markdown is rendered');
      assert.equal(await A.page.locator('main script').count(), 0, 'no script from the body');
      assert.equal(await A.page.locator('a[href^="javascript:" i]').count(), 0, 'no javascript: link');
      assert.match(await text(art.locator(`a[href="/p/${s.root}/edit"]`)), /^Edit your post from \S/, 'Edit on my post');
      assert.match(await text(art.locator(`a[href="/p/${s.root}/delete"]`)), /^Delete your post from \S/, 'Delete on my post');
    }],

    ['reply from the thread page', async () => {
      const A = s.A;
      const form = A.page.locator(`main form[action="/p/${s.root}/reply"]`);
      assert.equal(await form.count(), 1, 'a reply form at the end of the thread');
      assert.equal(await text(form.locator('h2')), 'Write a reply');
      assert.equal(await text(A.page.locator('label[for="body"]')), 'Your reply');
      await A.fill('body', 'Thanks for having me');
      await A.activate(A.button('Publish reply'));
      s.r1 = new URL(A.page.url()).hash.replace(/^#p-/, '');
      assert.match(s.r1, HEX64, 'the redirect names the reply as #p-PID');
      assert.equal(pathOf(A), `/p/${s.r1}`, 'the thread page, named by the new reply');
      await A.audit('thread-replied');
      assert.match(await text(article(A, s.r1)), /Thanks for having me/);
    }],

    ['the reply page, its error, and a second reply', async () => {
      const A = s.A;
      await A.goto(`/p/${s.root}/reply`);
      let d = await A.audit('reply');
      assert.equal(d.h1, 'Reply');
      assert.equal(await A.page.locator('aside[aria-labelledby="prompts-title"]').count(), 1, 'prompts beside the box');
      assert.match(await text(A.main()), /friends/, 'the thread\'s first post is shown');
      await A.activate(A.button('Publish reply'));
      d = await A.audit('reply-error', { status: 400 });
      assertErrors(d, { body: 'Write something in your post' });
      await A.fill('body', 'A second reply, soon deleted');
      await A.activate(A.button('Publish reply'));
      assert.equal(queryOf(A, 'done'), 'replied');
      s.r2 = new URL(A.page.url()).hash.replace(/^#p-/, '');
      assert.match(s.r2, HEX64);
      softPath(A, `/p/${s.r2}`);
    }],

    ['edit my reply', async () => {
      const A = s.A;
      await A.activate(article(A, s.r1).locator(`a[href="/p/${s.r1}/edit"]`));
      assert.equal(pathOf(A), `/p/${s.r1}/edit`);
      const d = await A.audit('edit');
      assert.equal(d.h1, 'Edit your post');
      assert.equal(await A.field('body').inputValue(), 'Thanks for having me');
      assert.equal(await A.page.locator('main [name="title"]').count(), 0, 'no title on a reply');
      assert.equal(await text(A.page.locator('label[for="body"]')), 'Your post');
      assert.equal(await A.link('Cancel', A.main()).count(), 1, 'a Cancel link');
      await A.fill('body', 'Thanks for having me, see you Tuesday');
      await A.activate(A.button('Save changes'));
      softPath(A, `/p/${s.r1}`);
      assert.equal(new URL(A.page.url()).hash, `#p-${s.r1}`);
      assert.equal(queryOf(A, 'done'), 'edited');
      await A.audit('thread-edited');
      const t = await text(article(A, s.r1));
      assert.match(t, /see you Tuesday/);
      assert.match(t, /\(edited\)/);
    }],

    ['delete my second reply, through the confirmation page', async () => {
      const A = s.A;
      await A.activate(article(A, s.r2).locator(`a[href="/p/${s.r2}/delete"]`));
      assert.equal(pathOf(A), `/p/${s.r2}/delete`);
      const d = await A.audit('delete');
      assert.equal(d.h1, 'Delete this post?');
      assert.match(await text(A.main()), /soon deleted/, 'the post is shown');
      await A.activate(A.link('No, go back', A.main()));
      assert.equal(pathOf(A), `/p/${s.r2}`);
      assert.match(await text(article(A, s.r2)), /soon deleted/, 'still there');
      await A.activate(article(A, s.r2).locator(`a[href="/p/${s.r2}/delete"]`));
      await A.activate(A.button('Yes, delete it'));
      assert.equal(pathOf(A), `/p/${s.root}`);
      assert.equal(queryOf(A, 'done'), 'deleted');
      await A.audit('thread-deleted');
      assert.doesNotMatch(await text(A.main()), /soon deleted/, 'the body is gone');
      if (await article(A, s.r2).count()) assert.match(await text(article(A, s.r2)), /This post was deleted\./);
    }],

    ['a form with a wrong token, and a choice no form offers', async () => {
      const A = s.A;
      await A.goto(`/g/${s.gid}/write`);
      await A.fill('body', 'This must not be published');
      await A.page.locator('main input[name=csrf]').evaluate((e) => { e.value = '0'.repeat(64); });
      await A.activate(A.button('Publish'));
      let d = await A.audit('form-expired', { status: 403 });
      assert.equal(d.title, 'This form has expired – Kith');
      await A.goto('/mine');
      assert.doesNotMatch(await text(A.main()), /must not be published/, 'nothing was written');
      await A.goto('/settings');
      await A.page.locator('input[name=text_size][value=large]').evaluate((e) => { e.value = 'huge'; });
      await A.choose('text_size', 'huge');
      await A.activate(A.button('Save'));
      d = await A.audit('settings-bad-choice', { status: 400 });
    }, { extra: true, independent: true }],

    ['my posts, and export as Markdown and JSON', async () => {
      const A = s.A;
      await A.goto('/groups'); // wherever the steps before ended
      await A.activate(A.link('Your posts', A.page.locator('header nav')));
      assert.equal(pathOf(A), '/mine');
      const d = await A.audit('mine');
      assert.equal(d.h1, 'Your posts');
      assert.ok(await A.main().locator(`a[href^="/p/${s.root}"]`).count(), 'links to my thread');
      assert.ok(await A.main().locator(`a[href^="/p/${s.r1}"]`).count(), 'links to my reply');
      const md = await A.download(A.link('Download as Markdown', A.main()));
      assert.equal(md.name, 'kith-posts.md');
      assert.match(md.text, new RegExp(title));
      assert.match(md.text, /friends/);
      assert.doesNotMatch(md.text, /soon deleted/, 'deleted posts are left out');
      const js = await A.download(A.link('Download as JSON', A.main()));
      assert.equal(js.name, 'kith-posts.json');
      const obj = JSON.parse(js.text);
      assert.equal(obj.format, 'json');
      const root = obj.posts.find((p) => p.id === s.root);
      assert.ok(root, 'the thread start is exported');
      assert.equal(root.title, title);
      assert.equal(root.group_id, s.gid);
      assert.ok(obj.posts.some((p) => p.id === s.r1), 'the reply is exported');
      assert.ok(!obj.posts.some((p) => p.id === s.r2), 'the deleted reply is not');
      for (const [p, type, file] of [['/mine/export.md', 'text/markdown; charset=utf-8', 'kith-posts.md'],
        ['/mine/export.json', 'application/json', 'kith-posts.json']]) {
        const r = await A.page.request.get(s.A.ctx.base + p, { maxRedirects: 0 });
        const h = r.headers();
        assert.equal(r.status(), 200, p);
        assert.equal(h['content-type'], type, `${p} Content-Type`);
        assert.equal(h['content-disposition'], `attachment; filename="${file}"`);
        assert.match(h['cache-control'] || '', /no-store/, `${p} is private`);
      }
    }],

    ['invite someone: QR code and the code as text', async () => {
      const A = s.A;
      await A.activate(A.link('Your groups', A.page.locator('header nav')));
      await A.activate(A.main().locator(`a[href="/g/${s.gid}"]`));
      await A.activate(A.link('Invite someone', A.main()));
      assert.equal(pathOf(A), `/g/${s.gid}/invite`);
      const d = await A.audit('invite');
      assert.equal(d.h1, 'Invite someone');
      const svg = A.main().locator('svg[role="img"]');
      assert.equal(await svg.count(), 1, 'one inline QR svg');
      assert.ok((await text(svg.locator('title'))).length > 0, 'the QR has a <title>');
      assert.ok((await svg.locator('rect, path').count()) > 0, 'the QR draws something');
      s.code = await text(A.page.locator('code#invite-code'));
      assert.match(s.code, /^kith1-/);
    }],

    ['a second member joins with the invite code', async (run) => {
      s.B = await run.member('B');
      const B = s.B;
      await B.goto('/signup');
      await B.fill('name', nameA);
      await B.fill('passphrase', pass);
      await B.activate(B.button('Create account'));
      let d = await B.audit('signup-error-taken', { status: 400 });
      assertErrors(d, { name: 'That name is taken. Choose another' });
      await B.fill('name', nameB);
      await B.fill('passphrase', pass);
      await B.fill('invite', 'kith1-not-a-real-code');
      await B.activate(B.button('Create account'));
      d = await B.audit('signup-error-invite', { status: 400 });
      assertErrors(d, { invite: 'That invite code is not right. Check it and try again' });
      if (isJs) {
        // Sign up and join in one go.
        await B.fill('name', nameB);
        await B.fill('passphrase', pass);
        await B.fill('invite', s.code);
        await B.activate(B.button('Create account'));
        assert.equal(pathOf(B), `/g/${s.gid}`);
      } else {
        // Sign up, then join from "Your groups".
        await B.fill('name', nameB);
        await B.fill('passphrase', pass);
        await B.fill('invite', '');
        await B.activate(B.button('Create account'));
        assert.equal(pathOf(B), '/groups');
        await B.activate(B.link('Join a group with an invite code', B.main()));
        assert.equal(pathOf(B), '/join');
        d = await B.audit('join');
        assert.equal(d.h1, 'Join a group');
        assert.equal(await text(B.page.locator('#code-hint')), 'It starts with kith1-. You can paste it.');
        assert.equal(await B.field('code').getAttribute('autocomplete'), 'off');
        await B.activate(B.button('Join group'));
        d = await B.audit('join-error', { status: 400 });
        assertErrors(d, { code: 'Enter the invite code' });
        await B.fill('code', s.code);
        await B.activate(B.button('Join group'));
        assert.equal(pathOf(B), `/g/${s.gid}`);
        assert.equal(queryOf(B, 'done'), 'joined');
      }
      d = await B.audit('group-joined');
      assert.equal(d.h1, groupName);
    }],

    ['the second member reads the thread and cannot edit it', async () => {
      const B = s.B;
      await B.activate(B.link('All conversations', B.main()));
      const d = await B.audit('threads-all');
      assert.equal(d.h1, 'All conversations');
      await B.activate(B.main().locator(`a[href^="/p/${s.root}"]`).first());
      assert.equal(pathOf(B), `/p/${s.root}`);
      assert.match(await text(article(B, s.root)), /friends/);
      assert.equal(await B.main().locator('a[href$="/edit"]').count(), 0, 'no Edit on posts of others');
      assert.equal(await B.main().locator('a[href$="/delete"]').count(), 0, 'no Delete on posts of others');
      await B.goto(`/p/${s.root}/edit`);
      const e = await B.audit('edit-not-author', { status: 404 });
      assert.equal(e.title, 'Page not found – Kith');
      if (isJs) {
        await B.goto('/join');
        await B.fill('code', s.code);
        await B.activate(B.button('Join group'));
        const j = await B.audit('join-error-member', { status: 400 });
        assertErrors(j, { code: 'You are already in that group' });
      }
    }],

    ['change my display name', async () => {
      const A = s.A;
      await A.activate(A.link('Your account', A.page.locator('header nav')));
      assert.equal(pathOf(A), '/account');
      let d = await A.audit('account');
      assert.equal(d.h1, 'Your account');
      assert.match(await text(A.main()), new RegExp(nameA));
      await A.activate(A.link('Change your display name', A.main()));
      d = await A.audit('account-name');
      assert.equal(d.h1, 'Change your display name');
      await A.fill('display_name', '');
      await A.activate(A.button('Save name'));
      d = await A.audit('account-name-error', { status: 400 });
      assertErrors(d, { display_name: 'Enter a display name' });
      await A.fill('display_name', `Ash Tree ${mode}`);
      await A.activate(A.button('Save name'));
      assert.equal(pathOf(A), '/account');
      assert.equal(queryOf(A, 'done'), 'name');
      d = await A.audit('account-name-saved');
      assert.ok(d.notice.length > 0, 'a notice');
      if (!(await text(A.main())).includes(`Ash Tree ${mode}`)) {
        A.problems.add('/account', 'the display name is not shown (WEB.md: "the sign-in name, the display name")');
      }
      await A.goto(`/p/${s.root}`);
      assert.match(await text(article(A, s.root)), new RegExp(`Ash Tree ${mode}`), 'posts show the new name');
    }],

    ['change my passphrase', async () => {
      const A = s.A;
      await A.goto('/account');
      await A.activate(A.link('Change your passphrase', A.main()));
      let d = await A.audit('account-passphrase');
      assert.equal(d.h1, 'Change your passphrase');
      assert.equal(await A.field('current_passphrase').getAttribute('autocomplete'), 'current-password');
      assert.equal(await A.field('new_passphrase').getAttribute('autocomplete'), 'new-password');
      await A.fill('current_passphrase', 'not my passphrase');
      await A.fill('new_passphrase', 'tiny');
      await A.activate(A.button('Change passphrase'));
      d = await A.audit('account-passphrase-error', { status: 400 });
      assert.equal(d.errors.new_passphrase, 'The passphrase must be at least 8 characters');
      if (d.errors.current_passphrase) assert.equal(d.errors.current_passphrase, 'That is not your current passphrase');
      await A.fill('current_passphrase', 'not my passphrase');
      await A.fill('new_passphrase', pass2);
      await A.activate(A.button('Change passphrase'));
      d = await A.audit('account-passphrase-wrong', { status: 400 });
      assertErrors(d, { current_passphrase: 'That is not your current passphrase' });
      await A.fill('current_passphrase', pass);
      await A.fill('new_passphrase', pass2);
      await A.activate(A.button('Change passphrase'));
      assert.equal(pathOf(A), '/account');
      assert.equal(queryOf(A, 'done'), 'passphrase');
    }],

    ['text size and contrast stick', async () => {
      const A = s.A;
      await A.activate(A.link('Text size and contrast', A.page.locator('footer')));
      assert.equal(pathOf(A), '/settings');
      let d = await A.audit('settings');
      assert.equal(d.h1, 'Text size and contrast');
      const legends = (await A.main().locator('legend').allTextContents()).map((t) => t.trim());
      assert.ok(legends.includes('Text size') && legends.includes('Contrast'), `legends ${legends}`);
      const radios = await A.main().locator('input[type=radio]').evaluateAll((rs) => rs.map((r) => `${r.id}=${r.labels[0]?.textContent.trim()}`));
      assert.deepEqual(radios, ['text_size=Standard', 'text_size-large=Large', 'text_size-largest=Largest',
        'contrast=Standard', 'contrast-high=High contrast (light text on black)']);
      await A.choose('text_size', 'largest');
      await A.choose('contrast', 'high');
      await A.activate(A.button('Save'));
      assert.equal(pathOf(A), '/settings');
      assert.equal(queryOf(A, 'done'), 'saved');
      d = await A.audit('settings-saved');
      assert.equal(d.notice, 'Your choices are saved.');
      assert.match(d.classes, /\bkith-text-largest\b/);
      assert.match(d.classes, /\bkith-contrast-high\b/);
      const c = (await A.context.cookies()).find((k) => k.name === 'kith_prefs');
      assert.ok(c && c.expires > Date.now() / 1000 + 300 * 86400, 'kith_prefs kept for a year');
      assert.equal(c.value, 'largest.high');
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Strict');
      await A.goto(`/p/${s.root}`);
      d = await A.audit('thread-largest-high-contrast');
      assert.match(d.classes, /\bkith-text-largest\b/);
      assert.match(d.classes, /\bkith-contrast-high\b/);
      await A.goto('/settings');
      assert.ok(await A.page.locator('input[name=text_size][value=largest]').isChecked(), 'the form shows the choice');
      await A.choose('text_size', 'large');
      await A.choose('contrast', 'standard');
      await A.activate(A.button('Save'));
      d = await A.audit('settings-large');
      assert.match(d.classes, /\bkith-text-large\b/);
      assert.doesNotMatch(d.classes, /kith-contrast-high/);
    }],

    ['sign out: the session ends and Back shows nothing private', async () => {
      const A = s.A;
      await A.goto(`/p/${s.root}`);
      const before = (await A.context.cookies()).find((k) => k.name === 'kith_session');
      await A.activate(A.button('Sign out', A.page.locator('header')));
      assert.equal(A.url(), '/signin?done=signedout');
      const d = await A.audit('signed-out');
      assert.equal(d.notice, 'You have signed out.');
      assert.equal(d.signedIn, false);
      const after = (await A.context.cookies()).find((k) => k.name === 'kith_session');
      assert.ok(!after || after.value !== before.value, 'the session id changed');
      await A.page.goBack();
      assert.doesNotMatch(await A.page.content(), /friends|see you Tuesday/, 'Back shows no post');
      assert.equal(pathOf(A), '/signin', 'Back lands on sign in');
      // The old cookie is worthless on the node too.
      const r = await A.page.request.get(`${A.ctx.base}/groups`, {
        maxRedirects: 0, headers: { cookie: `kith_session=${before.value}` },
      });
      assert.equal(r.status(), 303);
      assert.match(r.headers().location, /\/signin$/);
    }],

    ['sign in again with the new passphrase', async () => {
      const A = s.A;
      await A.goto('/signin');
      await A.activate(A.button('Sign in'));
      let d = await A.audit('signin-error-empty', { status: 400 });
      assertErrors(d, { name: 'Enter your name', passphrase: 'Enter your passphrase' });
      await A.fill('name', nameA);
      await A.fill('passphrase', pass);
      await A.activate(A.button('Sign in'));
      d = await A.audit('signin-error-wrong', { status: 400 });
      assertErrors(d, { passphrase: 'The name or passphrase is not right' });
      await A.fill('name', nameA);
      await A.fill('passphrase', pass2);
      await A.activate(A.button('Sign in'));
      assert.equal(pathOf(A), '/groups');
      assert.ok(await A.main().locator(`a[href="/g/${s.gid}"]`).count(), 'my group is there');
    }],

    ['help, glossary and node status', async () => {
      const A = s.A;
      await A.activate(A.link('Help', A.page.locator('header nav')));
      let d = await A.audit('help');
      assert.equal(d.h1, 'Help');
      const hrefs = await A.main().locator('a[href^="/help/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.ok(hrefs.length > 0, 'help pages are listed');
      for (const h of hrefs) {
        await A.goto(h);
        await A.audit(`help-${h.slice(6)}`);
      }
      await A.activate(A.link('Glossary', A.page.locator('footer')));
      d = await A.audit('glossary');
      assert.equal(d.h1, 'Glossary');
      await A.activate(A.link('Node status', A.page.locator('footer')));
      d = await A.audit('status');
      assert.equal(d.h1, 'Node status');
      assert.match(await text(A.main()), new RegExp(groupName), 'my group on the status page');
    }, { extra: true }],

    ['pages that are not there', async () => {
      const B = s.B;
      for (const [p, name] of [['/no/such/page', '404'], [`/g/${'0'.repeat(64)}`, '404-group'],
        [`/p/${'0'.repeat(64)}`, '404-post'], ['/help/no-such-help', '404-help']]) {
        await B.goto(p);
        const d = await B.audit(name, { status: 404 });
        assert.equal(d.title, 'Page not found – Kith');
      }
      const r = await B.page.request.get(`${B.ctx.base}/static/..%2f..%2fkithd.conf`, { maxRedirects: 0 });
      assert.ok(r.status() >= 400, 'static files stay in their folder');
    }, { extra: true }],

    ['signed-out pages: status and a private page', async (run) => {
      const C = await run.member('C');
      s.C = C;
      await C.goto('/status');
      const d = await C.audit('status-signed-out');
      assert.equal(d.h1, 'Node status');
      assert.equal(d.signedIn, false);
      await C.goto(`/g/${s.gid}`);
      assert.equal(pathOf(C), '/signin', 'a private page asks to sign in');
      await C.goto('/help');
      await C.audit('help-signed-out');
    }, { extra: true }],

    ['with reduced motion asked for, nothing moves', async () => {
      const A = s.A;
      await A.page.emulateMedia({ reducedMotion: 'reduce' });
      for (const p of ['/groups', `/p/${s.root}`, '/settings']) {
        await A.goto(p);
        const moving = await A.page.evaluate(() => [...document.querySelectorAll('*')].filter((e) => {
          const cs = getComputedStyle(e);
          const long = (v) => v.split(',').some((t) => parseFloat(t) > 0.01);
          return long(cs.transitionDuration) || (cs.animationName !== 'none' && long(cs.animationDuration)) ||
            cs.scrollBehavior === 'smooth';
        }).map((e) => e.tagName.toLowerCase() + (e.className ? `.${e.className}` : '')));
        if (moving.length) A.problems.add(p, `moves with prefers-reduced-motion: reduce: ${moving.slice(0, 5).join(', ')}`);
      }
      await A.page.emulateMedia({ reducedMotion: null });
    }, { extra: true, independent: true }],

    ['too many wrong passphrases slow sign-in down', async () => {
      const C = s.C;
      await C.goto('/signin');
      let d = null;
      for (let i = 0; i < 8; i++) {
        await C.fill('name', nameA);
        await C.fill('passphrase', `wrong guess ${i}`);
        await C.activate(C.button('Sign in'));
        if (C.last.status === 429) break;
      }
      assert.equal(C.last.status, 429, 'slowed down within 8 tries');
      d = await C.audit('signin-too-many', { status: 429 });
      assert.match(d.errors.passphrase || '', /^Too many tries\. Wait \d+ seconds?, then try again$/);
    }, { extra: true }],
    // Last: while a deleted start breaks the thread list, it breaks all after it.
    ['delete a thread start that has a reply', async () => {
      const A = s.A;
      await A.goto(`/g/${s.gid}/write`);
      await A.fill('title', 'Short lived');
      await A.fill('body', 'This thread start goes away.');
      await A.activate(A.button('Publish'));
      const start = pathOf(A).slice(3);
      await A.fill('body', 'A reply that stays');
      await A.activate(A.button('Publish reply'));
      await A.activate(article(A, start).locator(`a[href="/p/${start}/delete"]`));
      await A.activate(A.button('Yes, delete it'));
      assert.equal(pathOf(A), `/g/${s.gid}/threads`);
      assert.equal(queryOf(A, 'done'), 'deleted');
      const d = await A.audit('threads-deleted');
      assert.ok(d.notice.length > 0, 'a notice');
      await A.activate(A.link('A deleted post', A.main()).or(A.main().locator(`a[href^="/p/${start}"]`)).first());
      assert.match(await text(article(A, start)), /This post was deleted\./);
      assert.equal(await A.page.locator('main form[action$="/reply"]').count(), 0, 'no reply form under a deleted start');
      await A.audit('thread-start-deleted');
    }, { extra: true, independent: true }],

  ];
  return list.filter(([, , o]) => isJs || !o?.extra)
    .map(([name, fn, o]) => ({ name, fn, independent: !!o?.independent }));
}

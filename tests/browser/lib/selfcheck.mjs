// selfcheck.mjs: proof that the checks can fail. A real page is spoiled in
// the browser (a label removed, the language dropped, text made faint, the
// focus outline taken away) and the audit must report each fault; the
// faults go to a private problem list, not the run's.
import assert from 'node:assert/strict';
import { Problems } from './browser.mjs';

export function auditSelfCheck() {
  return {
    name: 'self-check: the audit reports a page spoiled on purpose',
    fn: async (run) => {
      const m = await run.member('selfcheck');
      m.problems = new Problems('self-check', { quiet: true });
      await m.goto('/signin');
      await m.page.evaluate(() => {
        document.querySelector('label[for="name"]').remove();
        document.documentElement.removeAttribute('lang');
        document.querySelector('h1').style.color = '#ccc';
        document.querySelector('main').style.minWidth = '600px';
      });
      await m.audit('selfcheck');
      const got = m.problems.list.join('\n');
      for (const want of [/axe label \(critical\)/, /axe html-has-lang/, /axe color-contrast/,
        /<input id="name" name="name"> has no <label for>/, /lang is not "en"/, /scrolls sideways at 320 px/]) {
        assert.match(got, want);
      }
      await m.close();
    },
  };
}

export function focusSelfCheck() {
  return {
    name: 'self-check: a focus with no outline is reported',
    fn: async (run) => {
      const m = await run.member('selfcheck');
      m.problems = new Problems('self-check', { quiet: true });
      await m.goto('/signin');
      await m.page.locator('#name').evaluate((e) => {
        e.style.setProperty('outline', 'none', 'important');
        e.style.setProperty('box-shadow', 'none', 'important');
      });
      await m.tabTo(m.page.locator('#name'));
      assert.match(m.problems.list.join('\n'), /focus is not visible on <input#name>/);
      await m.close();
    },
  };
}

// The same flows by keyboard alone: Tab to each control (every focus stop
// must show a visible focus indicator that nothing covers), Enter or Space
// to press, arrows for radio buttons. Screenshots and axe are left to the
// other modes (the pages are the same).
import assert from 'node:assert/strict';
import { runSteps } from './lib/suite.mjs';
import { steps } from './lib/flow.mjs';
import { focusSelfCheck } from './lib/selfcheck.mjs';

// The skip link: the first Tab stop, visible when focused, and Enter on it
// moves the next Tab stop into <main>.
function skipLinkStep() {
  return {
    name: 'the skip link is the first Tab stop and jumps to the main content',
    fn: async (run) => {
      const m = await run.member('K');
      await m.goto('/signin');
      await m.page.keyboard.press('Tab');
      const f = await m.page.evaluate(() => {
        const e = document.activeElement;
        const r = e.getBoundingClientRect();
        return { skip: e.classList.contains('kith-skip-link'), w: r.width, h: r.height, top: r.top };
      });
      assert.ok(f.skip, 'the skip link gets focus first');
      assert.ok(f.w >= 24 && f.h >= 24 && f.top >= 0, `the focused skip link is on screen (${JSON.stringify(f)})`);
      await m.page.keyboard.press('Enter');
      await m.page.keyboard.press('Tab');
      const inMain = await m.page.evaluate(() => !!document.activeElement.closest('main'));
      assert.ok(inMain, 'after the skip link, Tab goes into <main>');
      await m.close();
    },
  };
}

runSteps('member flows by keyboard only', 'keyboard', (mode) => [focusSelfCheck(), skipLinkStep(), ...steps(mode)],
  { axe: false, screenshots: false });

// suite.mjs: one node:test test per mode. It starts a real kithd, opens
// Chromium, runs the flow's steps in order as subtests (after a failed step
// the rest are skipped: they build on it), then asserts that no page had a
// problem (browser.mjs collects them all, so one run lists every one).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { startKithd } from './kithd.mjs';
import { artifactsDir, openRun } from './browser.mjs';

// runSteps(title, mode, makeSteps, { allowSignup, axe, screenshots, label })
export function runSteps(title, mode, makeSteps, opts = {}) {
  test(title, async (t) => {
    const t0 = Date.now();
    const kithd = await startKithd({ allowSignup: opts.allowSignup ?? true });
    let run = null;
    try {
      run = await openRun(mode, kithd.url, opts);
      let broken = null;
      for (const st of makeSteps(mode)) {
        await t.test(st.name, async (tt) => {
          if (broken) {
            tt.skip(`skipped: "${broken}" failed`);
            return;
          }
          try {
            await st.fn(run);
          } catch (e) {
            if (!st.independent) broken = st.name;
            const pages = run.browser.contexts().flatMap((c) => c.pages()).filter((p) => p !== run.auditPage);
            for (const [i, p] of pages.entries()) {
              const file = path.join(artifactsDir, run.label, `FAILED-${i}.png`);
              await p.screenshot({ path: file, fullPage: true }).catch(() => {});
              console.log(`# failed at ${p.url()} (screenshot ${file})`);
            }
            throw e;
          }
        });
      }
      await t.test('no problem on any page (structure, headers, reflow, axe, focus)', () => {
        assert.equal(run.problems.list.length, 0, run.problems.report());
      });
    } finally {
      if (run) await run.close();
      const ex = await kithd.stop();
      console.log(`# ${title}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const bad = /(ERROR|AddressSanitizer|runtime error)/.exec(kithd.log());
      if (ex.code !== 0 || bad) {
        console.log(`# kithd log:\n${kithd.log().replace(/^/gm, '#   ')}`);
      }
      assert.equal(ex.code, 0, `kithd stopped with ${ex.code ?? ex.sig}`);
    }
  });
}

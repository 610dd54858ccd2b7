// A node whose operator allows no new accounts without an invite: the
// sign-up page says so and the invite code is required.
import assert from 'node:assert/strict';
import { runSteps } from './lib/suite.mjs';

function closedSteps() {
  return [{
    name: 'sign-up needs an invite code',
    fn: async (run) => {
      const m = await run.member('D');
      await m.goto('/signup');
      let d = await m.audit('signup-closed');
      assert.equal(d.h1, 'Create an account');
      await m.fill('name', 'dee');
      await m.fill('passphrase', 'a fine long passphrase');
      await m.activate(m.button('Create account'));
      d = await m.audit('signup-closed-error', { status: 400 });
      assert.deepEqual(d.errors, { invite: 'Enter the invite code you were given' });
      await m.fill('name', 'dee');
      await m.fill('passphrase', 'a fine long passphrase');
      await m.fill('invite', 'kith1-wrong');
      await m.activate(m.button('Create account'));
      d = await m.audit('signup-closed-error-invite', { status: 400 });
      assert.deepEqual(d.errors, { invite: 'That invite code is not right. Check it and try again' });
    },
  }];
}

runSteps('sign-up closed on this node', 'js', closedSteps, { allowSignup: false, label: 'closed' });

// Every flow with the mouse and JavaScript on, plus the pages only this mode
// visits (help, glossary, status, not-found and other error pages, a thread
// start deleted, sign-in slowed down). First a self-check that the audit
// does report faults.
import { runSteps } from './lib/suite.mjs';
import { steps } from './lib/flow.mjs';
import { auditSelfCheck } from './lib/selfcheck.mjs';

runSteps('member flows with the mouse (JavaScript on)', 'js', (mode) => [auditSelfCheck(), ...steps(mode)]);

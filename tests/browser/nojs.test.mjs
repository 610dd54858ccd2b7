// The same flows with JavaScript turned off in the browser: the page must
// not need it. axe runs on a copy of each page in a JavaScript-enabled page.
import { runSteps } from './lib/suite.mjs';
import { steps } from './lib/flow.mjs';

runSteps('member flows with JavaScript off', 'nojs', steps);

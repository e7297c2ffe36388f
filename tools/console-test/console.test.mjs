// The console in a real browser: Debian's Chromium, headless, driven by
// playwright-core against a running `orderflow serve` (its URL in
// ORDERFLOW_URL). Run by crates/cli/tests/console_browser.rs in `make test`.
//
// - the order workflow started from the console's form reaches SUCCEEDED
//   live, and ValidateData's output is a click away;
// - a failing execution shows the failed state and its error;
// - invalid JSON in the form is refused before anything is sent;
// - hostile markup in an input, an execution's error cause and a definition
//   is shown as text: the DOM holds no element of it and nothing runs;
// - screenshots go to ARTIFACTS (and the execution page's to DOCS_SCREENSHOT when set).
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const url = process.env.ORDERFLOW_URL;
const artifacts = process.env.ARTIFACTS || 'target/console-artifacts';
const root = process.env.WORKSPACE || '.';
assert.ok(url, 'ORDERFLOW_URL names the server');
mkdirSync(artifacts, { recursive: true });

async function api(operation, body) {
  const answer = await fetch(url + '/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.' + operation },
    body: JSON.stringify(body),
  });
  const json = await answer.json();
  if (!answer.ok) throw new Error(`${operation}: ${json.__type}: ${json.message}`);
  return json;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const failures = [];
const step = async (name, body) => {
  try {
    await body();
    console.log('ok', name);
  } catch (error) {
    failures.push(name);
    console.log('FAIL', name, '\n ', String(error && error.stack || error).split('\n').slice(0, 6).join('\n  '));
  }
};

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  page.on('dialog', (d) => { problems.push('a dialog opened: ' + d.message()); d.dismiss(); });

  const machines = (await api('ListStateMachines', {})).stateMachines;
  const orders = machines.find((m) => m.name.endsWith('-orders'));
  assert.ok(orders, 'the order workflow is registered: ' + machines.map((m) => m.name).join(', '));

  await step('the order workflow starts from the form and reaches SUCCEEDED live; ValidateData shows its output', async () => {
    await page.goto(url + '/');
    await page.getByRole('link', { name: orders.name }).click();
    await page.waitForSelector('#start-input');
    await page.fill('#start-name', 'console-order-1');
    await page.fill('#start-input', readFileSync(join(root, 'events/order-valid.json'), 'utf8'));
    await page.click('#start-button');
    await page.waitForURL(/\/executions\//);
    await page.waitForSelector('.status.SUCCEEDED', { timeout: 30000 });
    await page.waitForSelector('.node[data-state="ValidateData"].succeeded');
    await page.click('.node[data-state="ValidateData"]');
    await page.waitForSelector('#state-details h3');
    const details = await page.textContent('#state-details');
    assert.match(details, /Output/);
    assert.match(details, /ORD-1001/);
    assert.match(details, /TaskStateExited/);
    // Status is not by colour alone: the node says it in words.
    assert.match(await page.getAttribute('.node[data-state="ValidateData"]', 'aria-label'), /succeeded/);
    await page.screenshot({ path: join(artifacts, 'execution-succeeded.png'), fullPage: false });
    if (process.env.DOCS_SCREENSHOT) await page.screenshot({ path: process.env.DOCS_SCREENSHOT, fullPage: false });
  });

  await step('a failing execution shows the failed state and its error', async () => {
    const started = await api('StartExecution', { stateMachineArn: orders.stateMachineArn, name: 'console-bad-1', input: readFileSync(join(root, 'events/order-invalid-currency.json'), 'utf8') });
    await page.goto(url + '/executions/' + encodeURIComponent(started.executionArn));
    await page.waitForSelector('.status.FAILED', { timeout: 30000 });
    await page.waitForSelector('.node.failed');
    const failedState = await page.getAttribute('.node.failed', 'data-state');
    await page.click(`.node[data-state="${failedState}"]`);
    const details = await page.textContent('#state-details');
    assert.match(details, /✗ failed/);
    assert.match(await page.textContent('#execution-error'), /OrderValidationFailed|States\./);
    await page.screenshot({ path: join(artifacts, 'execution-failed.png') });
  });

  await step('invalid JSON in the start form is refused before anything is sent', async () => {
    const before = (await api('ListExecutions', { stateMachineArn: orders.stateMachineArn, maxResults: 1000 })).executions.length;
    await page.goto(url + '/state-machines/' + encodeURIComponent(orders.stateMachineArn));
    await page.fill('#start-input', '{not json');
    await page.click('#start-button');
    await page.waitForSelector('#start-error:has-text("not JSON")');
    const after = (await api('ListExecutions', { stateMachineArn: orders.stateMachineArn, maxResults: 1000 })).executions.length;
    assert.equal(after, before);
  });

  await step('hostile markup in an input, a cause and a definition is text, and nothing runs', async () => {
    const markup = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const definition = {
      Comment: markup,
      StartAt: 'Echo',
      States: {
        Echo: { Type: 'Pass', Next: 'Boom' },
        Boom: { Type: 'Fail', Error: 'Hostile', CausePath: '$.payload' },
      },
    };
    const created = await api('CreateStateMachine', { name: 'hostile', definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::123456789012:role/r' });
    const started = await api('StartExecution', { stateMachineArn: created.stateMachineArn, name: 'hostile-1', input: JSON.stringify({ payload: markup }) });
    await page.goto(url + '/executions/' + encodeURIComponent(started.executionArn));
    await page.waitForSelector('.status.FAILED', { timeout: 30000 });
    await page.click('.node[data-state="Echo"]');
    await page.waitForSelector('#state-details h3');
    assert.equal(await page.locator('main img, main script').count(), 0);
    assert.ok((await page.textContent('#execution-error')).includes(markup));
    assert.ok((await page.textContent('#state-details')).includes('window.__pwned'));
    await page.goto(url + '/state-machines/' + encodeURIComponent(created.stateMachineArn));
    await page.waitForSelector('pre.json');
    assert.ok((await page.textContent('pre.json')).includes('onerror'));
    assert.equal(await page.locator('main img, main script').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await page.screenshot({ path: join(artifacts, 'hostile.png') });
  });

  await step('another site cannot call the API through the browser', async () => {
    const answer = await fetch(url + '/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.ListStateMachines', Origin: 'https://evil.example' },
      body: '{}',
    });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /AccessDeniedException/);
    const csp = (await fetch(url + '/')).headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
  });

  await step('the graph is keyboard-reachable and states open with Enter', async () => {
    const list = await api('ListExecutions', { stateMachineArn: orders.stateMachineArn, statusFilter: 'SUCCEEDED' });
    await page.goto(url + '/executions/' + encodeURIComponent(list.executions[0].executionArn));
    await page.waitForSelector('.node[data-state="ValidateData"]');
    await page.focus('.node[data-state="ValidateData"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#state-details h3');
    assert.match(await page.textContent('#state-title'), /ValidateData/);
  });

  await step('Map iterations and Parallel branches are navigable, and a Distributed Map\'s Map Run leads to its children', async () => {
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel', Next: 'Each',
          Branches: [
            { StartAt: 'Left', States: { Left: { Type: 'Pass', Result: 'l', End: true } } },
            { StartAt: 'Right', States: { Right: { Type: 'Pass', Result: 'r', End: true } } },
          ],
          ResultPath: '$.both',
        },
        Each: {
          Type: 'Map', ItemsPath: '$.items', Next: 'Far', ResultPath: '$.each',
          ItemProcessor: { StartAt: 'Double', States: { Double: { Type: 'Pass', End: true } } },
        },
        Far: {
          Type: 'Map', ItemsPath: '$.items', End: true, ResultPath: '$.far',
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'Away', States: { Away: { Type: 'Pass', End: true } } },
        },
      },
    };
    const created = await api('CreateStateMachine', { name: 'nested', definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::123456789012:role/r' });
    const started = await api('StartExecution', { stateMachineArn: created.stateMachineArn, name: 'nested-1', input: JSON.stringify({ items: [1, 2, 3] }) });
    await page.goto(url + '/executions/' + encodeURIComponent(started.executionArn));
    await page.waitForSelector('.status.SUCCEEDED', { timeout: 30000 });
    await page.click('.node[data-state="Each"]');
    await page.waitForSelector('#iterations');
    const iterations = await page.locator('#iterations button').allTextContents();
    assert.deepEqual(iterations.slice(0, 3).map((t) => t.split(':')[0]), ['Iteration 0', 'Iteration 1', 'Iteration 2']);
    await page.click('#iterations button:has-text("Iteration 1")');
    await page.waitForSelector('.node[data-state="Double"].succeeded');
    await page.click('.node[data-state="Both"]');
    await page.waitForSelector('#iterations button:has-text("Branch 2")');
    await page.click('#iterations button:has-text("Branch 2")');
    await page.waitForSelector('.node[data-state="Right"].succeeded');
    await page.waitForSelector('#map-runs a');
    await page.click('#map-runs a');
    await page.waitForSelector('#children a');
    assert.equal(await page.locator('#children tbody tr').count(), 3);
    await page.click('#children a >> nth=0');
    await page.waitForSelector('text=A child execution of the Map Run');
    await page.waitForSelector('.node[data-state="Away"].succeeded');
  });

  await step('a state\'s assigned variables, its retries and its caught error are shown', async () => {
    const definition = {
      StartAt: 'Set',
      States: {
        Set: { Type: 'Pass', Assign: { greeting: 'hello', count: 2 }, Next: 'Flaky' },
        Flaky: {
          Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'nowhere', Payload: {} },
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 1 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }], Next: 'Handled',
        },
        Handled: { Type: 'Succeed' },
      },
    };
    const created = await api('CreateStateMachine', { name: 'variables', definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::123456789012:role/r' });
    const started = await api('StartExecution', { stateMachineArn: created.stateMachineArn, name: 'variables-1', input: '{}' });
    await page.goto(url + '/executions/' + encodeURIComponent(started.executionArn));
    await page.waitForSelector('.status.SUCCEEDED', { timeout: 30000 });
    await page.click('.node[data-state="Set"]');
    await page.waitForSelector('#variables');
    const variables = await page.textContent('#variables');
    assert.match(variables, /greeting/);
    assert.match(variables, /hello/);
    await page.click('.node[data-state="Flaky"]');
    await page.waitForSelector('#state-details:has-text("Attempts: 2")');
    assert.match(await page.textContent('#state-details'), /caught by a Catch/);
    assert.match(await page.getAttribute('.node[data-state="Flaky"]', 'class'), /caught/);
  });

  await step('TestState runs a state from its page, with a mock', async () => {
    const list = await api('ListExecutions', { stateMachineArn: orders.stateMachineArn, statusFilter: 'SUCCEEDED' });
    await page.goto(url + '/executions/' + encodeURIComponent(list.executions[0].executionArn));
    await page.click('.node[data-state="ProcessOrder"]');
    await page.click('#test-state summary');
    const mocked = { Payload: { order: { order_id: 'ORD-MOCK' }, receipt: { total: '1.00' } }, StatusCode: 200 };
    await page.fill('#test-mock', JSON.stringify(mocked));
    await page.click('#test-run');
    await page.waitForSelector('#test-result .status');
    const result = await page.textContent('#test-result');
    assert.match(result, /SUCCEEDED/);
    assert.match(result, /next: SendNotification/);
    assert.match(result, /ORD-MOCK/);
  });

  assert.deepEqual(problems, [], 'the page ran without errors');
} catch (error) {
  failures.push(String(error && error.message || error));
  console.log('FAIL', error);
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} console check(s) failed`);
  process.exit(1);
}
console.log('console: every check passed in Chromium');

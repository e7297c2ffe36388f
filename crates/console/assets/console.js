// The orderflow console: one page, routed by its path, reading the same
// Step Functions API the AWS CLI calls (POST / with X-Amz-Target). User data
// (names, inputs, outputs, causes, definitions) is only ever set as text.
'use strict';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const SVG = 'http://www.w3.org/2000/svg';
let timer = null;

async function api(operation, body) {
  const answer = await fetch('/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.' + operation },
    body: JSON.stringify(body || {}),
  });
  const json = await answer.json();
  if (!answer.ok) {
    const error = new Error((json.__type || 'Error') + ': ' + (json.message || ''));
    error.code = json.__type;
    throw error;
  }
  return json;
}

// An element; string and number children become text nodes, never markup.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') e.className = value;
    else if (key.startsWith('on')) e.addEventListener(key.slice(2), value);
    else e.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    e.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith('on')) e.addEventListener(key.slice(2), value);
    else e.setAttribute(key, String(value));
  }
  for (const child of children) e.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return e;
}

const link = (path, text) => el('a', { href: path, onclick: (ev) => { ev.preventDefault(); go(path); } }, text);
const machinePath = (arn) => '/state-machines/' + encodeURIComponent(arn);
const executionPath = (arn) => '/executions/' + encodeURIComponent(arn);
const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace('T', ' ').replace('Z', '') : '');
const status = (s) => el('span', { class: 'status ' + s }, s);
const main = () => document.getElementById('main');

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
}

// JSON shown with its tokens in spans, each token set as text.
function highlighted(text) {
  const pre = el('pre', { class: 'json' });
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([^"\d\-tfn]+|.)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[1] !== undefined) {
      pre.append(el('span', { class: m[2] ? 'tok-key' : 'tok-str' }, m[1]));
      if (m[2]) pre.append(document.createTextNode(m[2]));
    } else if (m[3] !== undefined) pre.append(el('span', { class: 'tok-num' }, m[3]));
    else if (m[4] !== undefined) pre.append(el('span', { class: 'tok-lit' }, m[4]));
    else pre.append(document.createTextNode(m[5]));
  }
  return pre;
}

function crumbs(...parts) {
  const nav = document.getElementById('crumbs');
  nav.replaceChildren(link('/', 'State machines'), ...parts);
}

function show(...children) {
  main().replaceChildren(...children);
}

function failed(error) {
  return el('p', { class: 'error', role: 'alert' }, String(error.message || error));
}

async function go(path, replace) {
  if (replace) window.history.replaceState(null, '', path); else window.history.pushState(null, '', path);
  await route();
}

async function route() {
  if (timer) { clearTimeout(timer); timer = null; }
  const path = location.pathname;
  try {
    if (path.startsWith('/state-machines/')) await machinePage(decodeURIComponent(path.slice(16)));
    else if (path.startsWith('/executions/')) await executionPage(decodeURIComponent(path.slice(12)));
    else if (path.startsWith('/map-runs/')) await mapRunPage(decodeURIComponent(path.slice(10)));
    else await homePage();
  } catch (error) {
    show(failed(error));
  }
}

async function homePage() {
  crumbs();
  const machines = [];
  let token;
  do {
    const page = await api('ListStateMachines', { maxResults: 1000, nextToken: token });
    machines.push(...page.stateMachines);
    token = page.nextToken;
  } while (token);
  document.title = 'State machines · orderflow';
  const rows = machines.map((m) => el('tr', {}, el('td', {}, link(machinePath(m.stateMachineArn), m.name)), el('td', {}, m.type), el('td', {}, when(m.creationDate))));
  show(
    el('h1', {}, 'State machines'),
    machines.length
      ? el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'Type'), el('th', { scope: 'col' }, 'Created'))), el('tbody', {}, rows))
      : el('p', { class: 'muted' }, 'No state machines yet: create one with the AWS CLI or `orderflow serve` and a template.'),
  );
}

async function machinePage(arn) {
  const machine = await api('DescribeStateMachine', { stateMachineArn: arn });
  document.title = machine.name + ' · orderflow';
  crumbs(el('span', {}, machine.name));
  const list = el('div', {});
  const start = startForm(arn);
  const graphBox = el('div', {});
  show(
    el('h1', {}, machine.name),
    el('p', { class: 'muted' }, machine.type + ' · ' + arn),
    el('div', { class: 'split' },
      el('section', { 'aria-labelledby': 'executions-title' }, el('h2', { id: 'executions-title' }, 'Executions'), list),
      el('section', { 'aria-labelledby': 'start-title' }, el('h2', { id: 'start-title' }, 'Start an execution'), start)),
    el('h2', {}, 'Graph'), graphBox,
    el('h2', {}, 'Definition'), highlighted(pretty(machine.definition)),
  );
  executionList(list, arn, machine);
  drawGraph(graphBox, arn, {}, null);
}

function startForm(arn) {
  const name = el('input', { id: 'start-name', type: 'text', placeholder: 'a name, or none for a random one', size: 30 });
  const input = el('textarea', { id: 'start-input', rows: 8, spellcheck: 'false' }, '{}');
  const note = el('p', { class: 'error', role: 'alert', id: 'start-error' });
  const button = el('button', { class: 'primary', type: 'button', id: 'start-button' }, 'Start execution');
  button.addEventListener('click', async () => {
    note.textContent = '';
    let parsed;
    try { parsed = JSON.parse(input.value); } catch (error) {
      note.textContent = 'The input is not JSON: ' + error.message + ' (nothing was sent)';
      return;
    }
    button.disabled = true;
    try {
      const body = { stateMachineArn: arn, input: JSON.stringify(parsed) };
      if (name.value.trim()) body.name = name.value.trim();
      const started = await api('StartExecution', body);
      await go(executionPath(started.executionArn));
    } catch (error) {
      note.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return el('div', { class: 'card' },
    el('label', { for: 'start-name' }, 'Name'), el('div', {}, name),
    el('label', { for: 'start-input' }, 'Input (JSON)'), input, note, button);
}

function executionList(box, arn, machine) {
  const filter = el('select', { id: 'status-filter', 'aria-label': 'Status' }, el('option', { value: '' }, 'All statuses'), STATUSES.map((s) => el('option', { value: s }, s)));
  const search = el('input', { id: 'name-search', type: 'search', placeholder: 'execution name', 'aria-label': 'Find an execution by name' });
  const table = el('div', {});
  const pager = el('div', { class: 'row' });
  let tokens = [undefined];
  let at = 0;
  async function load() {
    table.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    pager.replaceChildren();
    try {
      let executions;
      let next;
      if (search.value.trim()) {
        // An execution's ARN follows from its name: found at once among any number kept.
        const parts = arn.split(':');
        const found = `arn:${parts[1]}:states:${parts[3]}:${parts[4]}:execution:${parts[6]}:${search.value.trim()}`;
        try { executions = [await api('DescribeExecution', { executionArn: found })]; } catch (error) {
          if (error.code !== 'ExecutionDoesNotExist') throw error;
          executions = [];
        }
      } else if (machine.type === 'EXPRESS') {
        table.replaceChildren(el('p', { class: 'muted' }, 'EXPRESS executions are not kept, as in Step Functions.'));
        return;
      } else {
        const page = await api('ListExecutions', { stateMachineArn: arn, statusFilter: filter.value || undefined, maxResults: 25, nextToken: tokens[at] });
        executions = page.executions;
        next = page.nextToken;
      }
      const rows = executions.map((e) => el('tr', {}, el('td', {}, link(executionPath(e.executionArn), e.name)), el('td', {}, status(e.status)), el('td', {}, when(e.startDate)), el('td', {}, when(e.stopDate))));
      table.replaceChildren(executions.length
        ? el('table', { id: 'executions' }, el('thead', {}, el('tr', {}, ['Name', 'Status', 'Started', 'Ended'].map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows))
        : el('p', { class: 'muted' }, 'No executions.'));
      if (at > 0) pager.append(el('button', { type: 'button', onclick: () => { at -= 1; load(); } }, '← Newer'));
      if (next) pager.append(el('button', { type: 'button', onclick: () => { tokens[at + 1] = next; at += 1; load(); } }, 'Older →'));
    } catch (error) {
      table.replaceChildren(failed(error));
    }
  }
  filter.addEventListener('change', () => { tokens = [undefined]; at = 0; load(); });
  search.addEventListener('change', () => { tokens = [undefined]; at = 0; load(); });
  box.replaceChildren(el('div', { class: 'row' }, filter, search), table, pager);
  load();
}

// What each state did, from the history: its visits' inputs and outputs, errors, retries, events.
function statesOf(events, executionStatus) {
  const states = {};
  const open = [];
  const taken = new Set();
  let last = '(start)';
  for (const event of events) {
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (entered) {
      const s = (states[entered.name] = states[entered.name] || { visits: [], errors: [], events: [], attempts: 0, succeededAttempts: 0 });
      s.visits.push({ input: entered.input, output: undefined });
      s.events.push(event);
      taken.add(last + '→' + entered.name);
      open.push(entered.name);
      continue;
    }
    const current = open[open.length - 1];
    if (exited) {
      const s = states[exited.name];
      if (s) {
        const visit = s.visits[s.visits.length - 1];
        visit.output = exited.output;
        if (exited.assignedVariables) visit.variables = exited.assignedVariables;
        s.events.push(event);
        s.exited = true;
      }
      const i = open.lastIndexOf(exited.name);
      if (i >= 0) open.splice(i, 1);
      last = exited.name;
      continue;
    }
    if (!current || !states[current]) continue;
    const s = states[current];
    s.events.push(event);
    if (/Scheduled$/.test(event.type) && !/MapRun/.test(event.type)) s.attempts += 1;
    if (/(Succeeded)$/.test(event.type) && !/State/.test(event.type)) s.succeededAttempts += 1;
    if (/(Failed|TimedOut)$/.test(event.type) && event.type !== 'ExecutionFailed' && event.type !== 'ExecutionTimedOut') {
      const details = Object.values(event).find((v) => v && typeof v === 'object') || {};
      s.errors.push({ type: event.type, error: details.error, cause: details.cause });
    }
  }
  if (executionStatus === 'SUCCEEDED') taken.add(last + '→(end)');
  for (const [name, s] of Object.entries(states)) {
    if (s.exited && s.errors.length && s.succeededAttempts > 0) s.outcome = 'retried';
    else if (s.exited && s.errors.length) s.outcome = 'caught';
    else if (s.exited) s.outcome = 'succeeded';
    else if (executionStatus === 'RUNNING') s.outcome = 'running';
    else s.outcome = 'failed';
    s.name = name;
  }
  return { states, taken };
}

// The runs of a Map's iterations and a Parallel's branches: each a thread of
// events, found by following previousEventId from where it starts to where it ends.
function threadsOf(events, stateName, definition) {
  const after = new Map();
  for (const e of events) {
    if (!after.has(e.previousEventId)) after.set(e.previousEventId, []);
    after.get(e.previousEventId).push(e);
  }
  const starts = [];
  for (const e of events) {
    const d = e.mapIterationStartedEventDetails;
    if (e.type === 'MapIterationStarted' && d && d.name === stateName) starts.push({ event: e, label: 'Iteration ' + d.index, branch: false });
  }
  // A Parallel's branches: the events of each branch's own states (branches
  // run one after another may chain their events from one to the next).
  const parallel = stateDefinition(definition, stateName);
  if (parallel && parallel.Type === 'Parallel') {
    return (parallel.Branches || []).map((branch, k) => {
      const names = new Set(namesIn(branch));
      const own = eventsOfStates(events, names);
      const exited = own.filter((e) => e.stateExitedEventDetails).length;
      const entered = own.filter((e) => e.stateEnteredEventDetails).length;
      const outcome = !entered ? 'not-entered' : exited === entered ? 'succeeded' : own.some((e) => /Failed$/.test(e.type)) ? 'failed' : 'running';
      return { label: 'Branch ' + (k + 1), events: own, outcome };
    });
  }
  const startIds = new Set(starts.map((t) => t.event.id));
  return starts.map((start) => {
    const own = start.branch ? [start.event] : [];
    const queue = [start.event];
    let outcome = 'running';
    while (queue.length) {
      const e = queue.shift();
      for (const n of after.get(e.id) || []) {
        if (/^MapIteration(Succeeded|Failed|Aborted)$/.test(n.type)) { outcome = n.type.replace('MapIteration', '').toLowerCase(); continue; }
        if (startIds.has(n.id) || n.type === 'MapIterationStarted' || /^ParallelState(Succeeded|Failed|Aborted|Exited)$/.test(n.type)) continue;
        own.push(n);
        queue.push(n);
      }
    }
    if (start.branch) {
      const last = own[own.length - 1];
      outcome = last && last.stateExitedEventDetails ? 'succeeded' : own.some((e) => /Failed$/.test(e.type)) ? 'failed' : 'running';
    }
    return { label: start.label, events: own, outcome };
  });
}

const OUTCOME_WORDS = { succeeded: '✓ succeeded', failed: '✗ failed', caught: '↪ caught', retried: '⟳ retried', running: '… running', 'not-entered': 'not entered' };

async function drawGraph(box, arn, states, onSelect, taken) {
  let graph;
  try {
    const answer = await fetch('/console/graph?arn=' + encodeURIComponent(arn));
    graph = await answer.json();
    if (!answer.ok) throw new Error(graph.message);
  } catch (error) {
    box.replaceChildren(failed(error));
    return;
  }
  const pad = 20;
  const view = { x: -pad, y: -pad, w: graph.width + 2 * pad, h: graph.height + 2 * pad };
  const root = svg('svg', { role: 'group', 'aria-label': 'State machine graph', viewBox: `${view.x} ${view.y} ${view.w} ${view.h}` });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#8c959f' }))));
  for (const g of graph.groups) {
    root.append(svg('g', { class: 'group' }, svg('rect', { x: g.x, y: g.y, width: g.w, height: g.h, rx: 6 }), svg('text', { x: g.x + 8, y: g.y + 17 }, g.title)));
  }
  const at = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  for (const e of graph.edges) {
    const a = at[e.from];
    const b = at[e.to];
    if (!a || !b) continue;
    const ax = a.x + a.w / 2;
    const bx = b.x + b.w / 2;
    let d;
    if (e.kind === 'into') {
      d = `M${ax},${a.y + 48} L${bx},${b.y}`;
    } else if (Math.abs(b.y - a.y) < 1) {
      // Side by side: from one side to the other.
      const [fx, tx] = b.x > a.x ? [a.x + a.w, b.x] : [a.x, b.x + b.w];
      const y = a.y + Math.min(a.h, 48) / 2;
      d = `M${fx},${y} L${tx},${y}`;
    } else if (b.y > a.y) {
      const ay = a.y + a.h;
      const mid = (ay + b.y) / 2;
      d = `M${ax},${ay} C${ax},${mid} ${bx},${mid} ${bx},${b.y}`;
    } else {
      // Back up: around the right side.
      const side = Math.max(a.x + a.w, b.x + b.w) + 30;
      d = `M${a.x + a.w},${a.y + a.h / 2} C${side},${a.y + a.h / 2} ${side},${b.y + b.h / 2} ${b.x + b.w},${b.y + b.h / 2}`;
    }
    const classes = ['edge', e.kind];
    if (taken && taken.has(e.from + '→' + e.to)) classes.push('taken');
    const edge = svg('g', { class: classes.join(' ') }, svg('path', { d, 'marker-end': 'url(#arrow)' }));
    if (e.label) edge.append(svg('text', { x: (ax + bx) / 2 + 4, y: b.y > a.y ? (a.y + a.h + b.y) / 2 : (a.y + b.y) / 2 }, e.label));
    root.append(edge);
  }
  for (const n of graph.nodes) {
    const s = states[n.id];
    const outcome = n.kind === 'start' || n.kind === 'end' ? '' : s ? s.outcome : (Object.keys(states).length ? 'not-entered' : '');
    const label = n.kind === 'start' ? 'Start' : n.kind === 'end' ? 'End' : n.id;
    const node = svg('g', { class: `node ${n.kind} ${outcome}`, 'data-state': n.id, tabindex: n.kind === 'start' || n.kind === 'end' ? -1 : 0, role: 'button',
      'aria-label': `${label}, ${n.kind}${outcome ? ', ' + (OUTCOME_WORDS[outcome] || outcome) : ''}` });
    node.append(svg('rect', { x: n.x, y: n.y, width: n.w, height: n.kind === 'start' || n.kind === 'end' ? n.h : Math.min(n.h, 48), rx: n.kind === 'Choice' ? 2 : 8 }));
    if (n.h > 48) node.append(svg('rect', { x: n.x, y: n.y, width: n.w, height: n.h, rx: 8, fill: 'none', class: 'outline' }));
    node.append(svg('text', { x: n.x + 10, y: n.y + 19 }, label.length > 26 ? label.slice(0, 25) + '…' : label));
    if (n.kind !== 'start' && n.kind !== 'end') {
      node.append(svg('text', { x: n.x + 10, y: n.y + 36, class: 'sub' }, n.kind + (outcome ? ' · ' + (OUTCOME_WORDS[outcome] || outcome) : '')));
      const select = () => {
        root.querySelectorAll('.node.selected').forEach((x) => x.classList.remove('selected'));
        node.classList.add('selected');
        if (onSelect) onSelect(n.id);
      };
      node.addEventListener('click', select);
      node.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(); } });
    }
    node.append(svg('title', {}, label));
    root.append(node);
  }
  // Zoom (wheel, buttons) and pan (drag).
  const apply = () => root.setAttribute('viewBox', `${view.x} ${view.y} ${view.w} ${view.h}`);
  const zoom = (factor) => { const cx = view.x + view.w / 2; const cy = view.y + view.h / 2; view.w *= factor; view.h *= factor; view.x = cx - view.w / 2; view.y = cy - view.h / 2; apply(); };
  root.addEventListener('wheel', (ev) => { ev.preventDefault(); zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15); }, { passive: false });
  let drag = null;
  root.addEventListener('pointerdown', (ev) => { if (ev.target.closest('.node')) return; drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y }; });
  root.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const scale = view.w / root.clientWidth;
    view.x = drag.vx - (ev.clientX - drag.x) * scale;
    view.y = drag.vy - (ev.clientY - drag.y) * scale;
    apply();
  });
  root.addEventListener('pointerup', () => { drag = null; });
  const tools = el('div', { class: 'graph-tools' },
    el('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => zoom(1 / 1.25) }, '+'),
    el('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => zoom(1.25) }, '−'),
    el('button', { type: 'button', 'aria-label': 'Fit the graph', onclick: () => { Object.assign(view, { x: -pad, y: -pad, w: graph.width + 2 * pad, h: graph.height + 2 * pad }); apply(); } }, 'Fit'));
  const legend = el('div', { class: 'legend', 'aria-hidden': 'true' }, Object.values(OUTCOME_WORDS).map((w) => el('span', {}, w)));
  box.replaceChildren(legend, el('div', { class: 'graph-wrap', id: 'graph' }, root, tools));
}

function stateDetails(box, s, name, context) {
  if (!s) {
    box.replaceChildren(el('h2', { id: 'state-title' }, name), el('p', { class: 'muted' }, 'This state was not entered.'), context ? testForm(name, context, '{}') : null);
    return;
  }
  const visit = s.visits[s.visits.length - 1];
  const parts = [el('h2', { id: 'state-title' }, name), el('p', {}, el('span', { class: 'badge' }, OUTCOME_WORDS[s.outcome] || s.outcome), s.visits.length > 1 ? ` · entered ${s.visits.length} times` : '', s.attempts > 1 ? ` · ${s.attempts} attempts` : '')];
  parts.push(el('h3', {}, 'Input'), highlighted(pretty(visit.input || '')));
  if (visit.output !== undefined) parts.push(el('h3', {}, 'Output'), highlighted(pretty(visit.output)));
  if (visit.variables && Object.keys(visit.variables).length) {
    // The variables the state assigned (Assign), each value as JSON text.
    parts.push(el('h3', {}, 'Variables assigned'), el('table', { id: 'variables' }, el('tbody', {},
      Object.entries(visit.variables).map(([name, value]) => el('tr', {}, el('th', { scope: 'row' }, name), el('td', {}, highlighted(pretty(value))))))));
  }
  if (s.attempts > 1 || s.errors.length) {
    parts.push(el('p', {}, `Attempts: ${s.attempts}; errors: ${s.errors.length}` + (s.outcome === 'retried' ? ' (retried, then succeeded)' : s.outcome === 'caught' ? ' (caught by a Catch)' : '')));
  }
  if (s.errors.length) {
    parts.push(el('h3', {}, 'Errors'), el('table', {}, el('tbody', {}, s.errors.map((e) => el('tr', {}, el('td', {}, e.type), el('td', {}, e.error || ''), el('td', { class: 'wrap' }, e.cause || ''))))));
  }
  if (context) {
    const threads = threadsOf(context.events, name, context.definition);
    if (threads.length) {
      const list = el('ul', { id: 'iterations' });
      for (const t of threads) {
        list.append(el('li', {}, el('button', { type: 'button', onclick: () => context.showThread(t) }, `${t.label}: ${OUTCOME_WORDS[t.outcome] || t.outcome}`)));
      }
      list.append(el('li', {}, el('button', { type: 'button', onclick: () => context.showThread(null) }, 'All of them')));
      parts.push(el('h3', {}, 'Iterations and branches'), el('p', { class: 'muted' }, 'Choose one to see its states in the graph.'), list);
    }
  }
  parts.push(el('h3', {}, 'Events'), eventTable(s.events));
  if (context) parts.push(testForm(name, context, visit.input || '{}'));
  box.replaceChildren(...parts);
}

// Every state name in a machine, nested ones included.
function namesIn(machine) {
  const names = [];
  for (const [name, state] of Object.entries((machine && machine.States) || {})) {
    names.push(name);
    for (const inner of [state.ItemProcessor, state.Iterator, ...(state.Branches || [])]) if (inner) names.push(...namesIn(inner));
  }
  return names;
}

// The events of the states named in `names`: their entries, exits and what happened while they ran.
function eventsOfStates(events, names) {
  const open = [];
  const own = [];
  for (const e of events) {
    const entered = e.stateEnteredEventDetails;
    const exited = e.stateExitedEventDetails;
    if (entered) { open.push(entered.name); if (names.has(entered.name)) own.push(e); continue; }
    if (exited) {
      if (names.has(exited.name)) own.push(e);
      const i = open.lastIndexOf(exited.name);
      if (i >= 0) open.splice(i, 1);
      continue;
    }
    if (open.length && names.has(open[open.length - 1])) own.push(e);
  }
  return own;
}

// A state's own definition, wherever it sits in the machine's.
function stateDefinition(definition, name) {
  const search = (machine) => {
    if (!machine || !machine.States) return null;
    if (machine.States[name]) return machine.States[name];
    for (const state of Object.values(machine.States)) {
      const inner = [state.ItemProcessor, state.Iterator, ...(state.Branches || [])];
      for (const m of inner) { const found = search(m); if (found) return found; }
    }
    return null;
  };
  return search(definition);
}

// TestState on this state, with an optional mock, as the API runs it.
function testForm(name, context, input) {
  const id = (k) => 'test-' + k;
  const inputBox = el('textarea', { id: id('input'), rows: 5, spellcheck: 'false' }, pretty(input));
  const mockBox = el('textarea', { id: id('mock'), rows: 3, spellcheck: 'false', placeholder: 'a mocked result (JSON), or leave empty' });
  const level = el('select', { id: id('level') }, ['INFO', 'DEBUG', 'TRACE'].map((l) => el('option', { value: l }, l)));
  level.value = 'DEBUG';
  const out = el('div', { id: id('result'), 'aria-live': 'polite' });
  const run = el('button', { type: 'button', id: id('run') }, 'Run TestState');
  run.addEventListener('click', async () => {
    out.replaceChildren();
    const state = stateDefinition(context.definition, name);
    if (!state) { out.append(failed('This state is not in the definition.')); return; }
    let request;
    try {
      JSON.parse(inputBox.value);
      request = { definition: JSON.stringify(state), input: inputBox.value, inspectionLevel: level.value, roleArn: context.roleArn };
      if (mockBox.value.trim()) { JSON.parse(mockBox.value); request.mock = { result: mockBox.value }; }
    } catch (error) {
      out.append(failed('Not JSON: ' + error.message + ' (nothing was sent)'));
      return;
    }
    try {
      const answer = await api('TestState', request);
      out.append(el('p', {}, 'Status: ', status(answer.status), answer.nextState ? ' · next: ' + answer.nextState : ''));
      if (answer.error) out.append(el('p', {}, el('strong', {}, answer.error), ': ', answer.cause || ''));
      if (answer.output !== undefined) out.append(el('h4', {}, 'Output'), highlighted(pretty(answer.output)));
      if (answer.inspectionData) out.append(el('h4', {}, 'Inspection data'), highlighted(JSON.stringify(answer.inspectionData, null, 2)));
    } catch (error) {
      out.append(failed(error));
    }
  });
  return el('details', { class: 'card', id: 'test-state' }, el('summary', {}, 'Test this state (TestState)'),
    el('label', { for: id('input') }, 'Input'), inputBox,
    el('label', { for: id('mock') }, 'Mock result'), mockBox,
    el('div', { class: 'row' }, el('label', { for: id('level') }, 'Inspection level'), level, run), out);
}

function eventTable(events) {
  const rows = events.map((e) => {
    const details = Object.entries(e).find(([k, v]) => k.endsWith('EventDetails') && v && typeof v === 'object');
    const d = details ? details[1] : {};
    const step = d.name || '';
    const resource = d.resource ? (d.resourceType ? d.resourceType + ':' : '') + d.resource : '';
    const shown = d.error || d.cause ? [d.error, d.cause].filter(Boolean).join(': ') : d.output !== undefined ? d.output : d.input !== undefined ? d.input : '';
    return el('tr', {}, el('td', {}, e.id), el('td', {}, e.type), el('td', {}, step), el('td', {}, resource), el('td', {}, when(e.timestamp)), el('td', { class: 'wrap' }, shown));
  });
  return el('table', { class: 'events' }, el('thead', {}, el('tr', {}, ['ID', 'Type', 'Step', 'Resource', 'Date and time', 'Details'].map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows));
}

async function eventsOf(arn) {
  const events = [];
  let token;
  do {
    const page = await api('GetExecutionHistory', { executionArn: arn, maxResults: 1000, nextToken: token, includeExecutionData: true });
    events.push(...page.events);
    token = page.nextToken;
  } while (token && events.length < 100000);
  return events;
}

async function executionPage(arn, selected) {
  const execution = await api('DescribeExecution', { executionArn: arn });
  const events = await eventsOf(arn);
  const { states, taken } = statesOf(events, execution.status);
  document.title = execution.name + ' · orderflow';
  const machineArn = execution.stateMachineArn;
  crumbs(link(machinePath(machineArn), machineArn.split(':').pop()), el('span', {}, execution.name));
  const details = el('section', { id: 'state-details', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Choose a state in the graph to see its input, output, errors and events.'));
  const graphBox = el('div', {});
  const actions = el('div', { class: 'row' });
  const note = el('p', { class: 'error', role: 'alert' });
  if (execution.status === 'RUNNING') {
    actions.append(el('button', { type: 'button', class: 'danger', id: 'stop-button', onclick: async () => {
      try { await api('StopExecution', { executionArn: arn }); await route(); } catch (error) { note.textContent = error.message; }
    } }, 'Stop'));
  }
  if (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status) && execution.redriveStatus === 'REDRIVABLE') {
    actions.append(el('button', { type: 'button', id: 'redrive-button', onclick: async () => {
      try { await api('RedriveExecution', { executionArn: arn }); await route(); } catch (error) { note.textContent = error.message; }
    } }, 'Redrive'));
  }
  const summary = el('div', { class: 'card' },
    el('div', { class: 'row' }, el('span', {}, 'Status: '), status(execution.status), el('span', { class: 'muted' }, 'started ' + when(execution.startDate)), execution.stopDate ? el('span', { class: 'muted' }, 'ended ' + when(execution.stopDate)) : null, actions),
    execution.error ? el('p', { id: 'execution-error' }, el('strong', {}, execution.error), ': ', el('span', { class: 'wrap' }, execution.cause || '')) : null,
    note);
  const io = el('div', { class: 'split' },
    el('div', {}, el('h2', {}, 'Input'), highlighted(pretty(execution.input || ''))),
    el('div', {}, el('h2', {}, 'Output'), execution.output !== undefined ? highlighted(pretty(execution.output)) : el('p', { class: 'muted' }, 'none yet')));
  const mapRunBox = el('section', { id: 'map-runs' });
  const parent = execution.mapRunArn ? el('p', {}, 'A child execution of the Map Run ', link(mapRunPath(execution.mapRunArn), execution.mapRunArn.split(':').slice(-2).join(':'))) : null;
  show(el('h1', {}, execution.name), parent, summary,
    el('div', { class: 'split' }, el('section', {}, el('h2', {}, 'Graph'), graphBox), details),
    mapRunBox, io, el('h2', {}, 'Events'), eventTable(events));
  const described = await api('DescribeStateMachineForExecution', { executionArn: arn });
  let definition = {};
  try { definition = JSON.parse(described.definition); } catch (_) { /* shown as the API gave it */ }
  const context = { events, definition, roleArn: described.roleArn, showThread: null };
  const select = (name) => { window.history.replaceState({ selected: name }, ''); stateDetails(details, states[name], name, context); };
  context.showThread = async (thread) => {
    // One iteration's or branch's states in the graph; the others' as the whole run left them.
    const shown = thread ? statesOf(thread.events, thread.outcome === 'running' ? 'RUNNING' : 'FAILED') : { states: {}, taken: new Set() };
    const merged = Object.assign({}, states, shown.states);
    await drawGraph(graphBox, arn, merged, select, new Set([...taken, ...shown.taken]));
  };
  await drawGraph(graphBox, arn, states, select, taken);
  const keep = selected || (window.history.state && window.history.state.selected);
  if (keep) {
    const node = document.querySelector(`.node[data-state="${CSS.escape(keep)}"]`);
    if (node) node.classList.add('selected');
    stateDetails(details, states[keep], keep, context);
  }
  mapRuns(mapRunBox, arn);
  if (execution.status === 'RUNNING') {
    // Live: the page follows the execution until it ends.
    timer = setTimeout(() => { if (location.pathname === executionPath(arn)) executionPage(arn, keep).catch((e) => show(failed(e))); }, 1000);
  }
}

const mapRunPath = (arn) => '/map-runs/' + encodeURIComponent(arn);

async function mapRuns(box, executionArn) {
  let runs;
  try { runs = (await api('ListMapRuns', { executionArn, maxResults: 1000 })).mapRuns; } catch (_) { return; }
  if (!runs.length) return;
  box.replaceChildren(el('h2', {}, 'Map Runs'), el('ul', {}, runs.map((r) => el('li', {}, link(mapRunPath(r.mapRunArn), r.mapRunArn.split(':').slice(-2).join(':'))))));
}

async function mapRunPage(arn) {
  const run = await api('DescribeMapRun', { mapRunArn: arn });
  const name = arn.split(':').slice(-2).join(':');
  document.title = name + ' · orderflow';
  crumbs(link(executionPath(run.executionArn), run.executionArn.split(':').pop()), el('span', {}, name));
  const counts = run.itemCounts || {};
  const table = el('div', {});
  const pager = el('div', { class: 'row' });
  let tokens = [undefined];
  let at = 0;
  async function load() {
    const page = await api('ListExecutions', { mapRunArn: arn, maxResults: 50, nextToken: tokens[at] });
    table.replaceChildren(el('table', { id: 'children' }, el('thead', {}, el('tr', {}, ['Child execution', 'Status', 'Items', 'Started'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, page.executions.map((e) => el('tr', {}, el('td', {}, link(executionPath(e.executionArn), e.name)), el('td', {}, status(e.status)), el('td', {}, e.itemCount === undefined ? '' : e.itemCount), el('td', {}, when(e.startDate)))))));
    pager.replaceChildren();
    if (at > 0) pager.append(el('button', { type: 'button', onclick: () => { at -= 1; load(); } }, '← Newer'));
    if (page.nextToken) pager.append(el('button', { type: 'button', onclick: () => { tokens[at + 1] = page.nextToken; at += 1; load(); } }, 'Older →'));
  }
  show(el('h1', {}, 'Map Run ' + name),
    el('div', { class: 'card' }, el('p', {}, 'Status: ', status(run.status), ' · max concurrency ', run.maxConcurrency),
      el('p', {}, `Items: ${counts.total || 0} in all, ${counts.succeeded || 0} succeeded, ${counts.failed || 0} failed, ${counts.running || 0} running, ${counts.pending || 0} pending`)),
    el('h2', {}, 'Child executions'), table, pager);
  await load();
}

window.addEventListener('popstate', route);
document.addEventListener('DOMContentLoaded', route);

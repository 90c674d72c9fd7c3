// masa-rl dashboard: reads the server-sent events of /api/stream (a snapshot
// of every run folder's metrics.jsonl, meta-stats.jsonl and samples.jsonl,
// then appended lines) and draws uPlot charts. Several runs share the axes:
// each metric keeps its colour, each run its dash pattern.
/* global uPlot */
'use strict';

const runs = new Map(); // id → { info, metrics: [], metaStats: [], samples: [] }
const charts = new Map(); // name → { plot, key }
const DASHES = [[], [8, 5], [2, 4], [12, 4, 2, 4]];
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
let renderQueued = false;
let lastUpdate = 0;

// ---- metric extraction -------------------------------------------------

const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** Rows of one run as [step, value] for a key function over metrics lines. */
function fromMetrics(run, pick) {
  return run.metrics.filter((line) => num(line.step) !== null && line.step > 0).map((line) => [line.step, num(pick(line))]);
}
function fromStats(run, pick) {
  return run.metaStats.filter((line) => num(line.step) !== null).map((line) => [line.step, num(pick(line))]);
}
function valKeys(run) {
  const keys = new Set();
  for (const line of run.metrics) for (const key of Object.keys(line)) if (key.startsWith('val-core/')) keys.add(key);
  return [...keys];
}

/**
 * Chart definitions: series(run) → [{ label, rows: [[step, value|null]], scale? }].
 * Series with the same label across runs get the same colour.
 */
const CHARTS = {
  reward: {
    axes: [{ label: 'step' }, { label: 'reward / accuracy' }],
    series: (run) => [
      { label: 'reward', rows: fromMetrics(run, (l) => l['critic/score/mean']) },
      { label: 'accuracy (train)', rows: fromStats(run, (l) => l.accuracy) },
      ...valKeys(run).map((key) => ({
        label: `validation ${key.slice('val-core/'.length).replace('/reward/mean', '')}`,
        rows: run.metrics.filter((l) => num(l[key]) !== null).map((l) => [l.step, l[key]]),
      })),
    ],
  },
  meta: {
    axes: [{ label: 'step' }, { label: 'score' }],
    series: (run) => [
      { label: 'meta reward', rows: fromMetrics(run, (l) => l['masa/meta_reward/mean']) },
      { label: 'notion', rows: fromMetrics(run, (l) => l['masa/notion_score/mean']) },
      { label: 'pass rate', rows: fromMetrics(run, (l) => l['masa/pass_rate_score/mean']) },
      { label: 'length', rows: fromMetrics(run, (l) => l['masa/length_score/mean']) },
    ],
  },
  calibration: {
    x: 'predicted pass rate',
    axes: [{ label: 'predicted pass rate' }, { label: 'true pass rate' }],
    points: true,
    series: (run) => calibrationSeries(run),
  },
  length: {
    axes: [{ label: 'step' }, { label: '|predicted − true| tokens' }, { label: 'standardised error', scale: 'z', side: 1 }],
    series: (run) => [
      { label: 'abs error (tokens)', rows: fromStats(run, (l) => l.length && l.length.meanAbsErrorTokens) },
      { label: 'standardised, correct', rows: fromStats(run, (l) => l.length && l.length.standardizedCorrect), scale: 'z' },
      { label: 'standardised, incorrect', rows: fromStats(run, (l) => l.length && l.length.standardizedIncorrect), scale: 'z' },
    ],
  },
  gating: {
    axes: [{ label: 'step' }, { label: 'fraction' }],
    series: (run) => [
      { label: 'gated fraction', rows: fromMetrics(run, (l) => l['masa/gated_frac']) },
      { label: 'precision', rows: fromStats(run, (l) => l.gating && l.gating.precision) },
      { label: 'recall', rows: fromStats(run, (l) => l.gating && l.gating.recall) },
    ],
  },
  tokens: {
    axes: [{ label: 'step' }, { label: 'tokens per step' }, { label: 'cumulative', scale: 'cum', side: 1 }],
    series: (run) => {
      let total = 0;
      const cumulative = run.metaStats.map((l) => {
        total += (l.tokens && num(l.tokens.saved)) || 0;
        return [l.step, total];
      });
      return [
        { label: 'saved by gating', rows: fromStats(run, (l) => l.tokens && l.tokens.gatingSaved) },
        { label: 'saved by cutoff', rows: fromStats(run, (l) => l.tokens && l.tokens.cutoffSaved) },
        { label: 'saved, cumulative', rows: cumulative, scale: 'cum' },
      ];
    },
  },
  timings: {
    axes: [{ label: 'step' }, { label: 'seconds' }],
    series: (run) =>
      ['gen', 'old_log_prob', 'adv', 'update_actor', 'testing', 'step'].map((phase) => ({
        label: phase,
        rows: fromMetrics(run, (l) => l[`timing_s/${phase}`]),
      })),
  },
};

/** Reliability points: mean true pass rate per predicted count, for the first and the latest steps. */
function calibrationSeries(run) {
  const lines = run.metaStats.filter((l) => l.calibration && Array.isArray(l.calibration.bins));
  if (lines.length === 0) return [{ label: 'early steps', rows: [] }, { label: 'latest steps', rows: [] }];
  const window = Math.max(1, Math.min(10, Math.ceil(lines.length / 4)));
  const aggregate = (part) => {
    const bins = part[0].calibration.bins.map(() => ({ n: 0, sum: 0 }));
    for (const line of part) {
      line.calibration.bins.forEach((bin, index) => {
        if (bins[index] && bin.count > 0 && num(bin.meanTrue) !== null) {
          bins[index].n += bin.count;
          bins[index].sum += bin.count * bin.meanTrue;
        }
      });
    }
    const scale = bins.length - 1;
    return bins.map((bin, index) => [index / scale, bin.n > 0 ? bin.sum / bin.n : null]);
  };
  const first = lines.slice(0, window);
  const last = lines.slice(-window);
  const label = (part) => (part.length === 1 ? `step ${part[0].step}` : `steps ${part[0].step}–${part[part.length - 1].step}`);
  return [
    { label: `early (${label(first)})`, key: 'early steps', rows: aggregate(first) },
    { label: `latest (${label(last)})`, key: 'latest steps', rows: aggregate(last) },
  ];
}

// ---- chart building ------------------------------------------------------

function colorOf(label) {
  const known = colorOf.table || (colorOf.table = new Map());
  if (!known.has(label)) known.set(label, COLORS[known.size % COLORS.length]);
  return known.get(label);
}

/** Aligns every run's series on the union of their x values. */
function buildData(name) {
  const def = CHARTS[name];
  const seriesList = [];
  const runList = [...runs.values()];
  runList.forEach((run, runIndex) => {
    for (const series of def.series(run)) seriesList.push({ ...series, run, runIndex });
  });
  const xs = new Set();
  for (const series of seriesList) for (const [x] of series.rows) xs.add(x);
  if (name === 'calibration') for (let i = 0; i <= 8; i++) xs.add(i / 8);
  const xValues = [...xs].sort((a, b) => a - b);
  const index = new Map(xValues.map((x, i) => [x, i]));
  const columns = seriesList.map((series) => {
    const column = new Array(xValues.length).fill(null);
    for (const [x, y] of series.rows) column[index.get(x)] = y;
    return column;
  });
  let points = 0;
  for (const column of columns) for (const value of column) if (value !== null) points++;
  const data = [xValues, ...columns];
  const multi = runList.length > 1;
  const uSeries = seriesList.map((series) => ({
    label: multi ? `${series.run.info.name} · ${series.label}` : series.label,
    stroke: colorOf(series.key || series.label),
    dash: DASHES[series.runIndex % DASHES.length],
    width: 2,
    scale: series.scale || 'y',
    spanGaps: true,
    ...(def.points ? { paths: () => null, points: { show: true, size: 9, fill: colorOf(series.key || series.label) } } : { points: { show: false } }),
  }));
  if (name === 'calibration') {
    // The diagonal: perfect calibration.
    data.push(xValues.map((x) => x));
    uSeries.push({ label: 'perfect', stroke: '#98a2b3', dash: [4, 4], width: 1, scale: 'y', spanGaps: true, points: { show: false } });
  }
  return { data, series: uSeries, points, signature: uSeries.map((s) => s.label).join('|') };
}

function makeOptions(name, built, width) {
  const def = CHARTS[name];
  const axes = def.axes.map((axis, i) => ({
    label: axis.label,
    scale: i === 0 ? 'x' : axis.scale || 'y',
    side: i === 0 ? 2 : axis.side === 1 ? 1 : 3,
    grid: { show: i < 2 },
    stroke: '#475467',
    size: i === 0 ? 40 : 56,
  }));
  const scales = { x: { time: false } };
  if (name === 'calibration') {
    scales.x = { time: false, range: [0, 1] };
    scales.y = { range: [0, 1] };
  }
  return {
    width,
    height: 240,
    scales,
    axes,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [{ label: def.x || 'step' }, ...built.series],
  };
}

function renderChart(name) {
  const panel = document.querySelector(`.panel[data-chart="${name}"]`);
  const target = panel.querySelector('.chart');
  const built = buildData(name);
  const width = Math.max(320, target.clientWidth || panel.clientWidth - 24);
  let entry = charts.get(name);
  if (entry && entry.signature !== built.signature) {
    entry.plot.destroy();
    charts.delete(name);
    entry = undefined;
  }
  if (!entry) {
    const plot = new uPlot(makeOptions(name, built, width), built.data, target);
    entry = { plot, signature: built.signature };
    charts.set(name, entry);
  } else {
    entry.plot.setData(built.data);
  }
  panel.dataset.points = String(built.points);
  panel.classList.toggle('no-data', built.points === 0);
}

// ---- samples table -------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function renderSamples() {
  const container = document.getElementById('samples');
  const examples = [];
  for (const run of runs.values()) {
    for (const line of run.metaStats.slice(-6)) for (const example of line.examples || []) examples.push({ run, step: line.step, example });
  }
  examples.sort((a, b) => b.step - a.step);
  container.replaceChildren();
  const multi = runs.size > 1;
  if (examples.length > 0) {
    const table = el('table', { id: 'samples-table' }, el('thead', {}, el('tr', {}, ...(multi ? ['run'] : []).concat(['step', 'problem', 'meta prediction', 'solutions']).map((h) => el('th', {}, h)))));
    const body = el('tbody');
    for (const { run, step, example } of examples.slice(0, 6)) {
      const meta = example.meta.length === 0
        ? el('span', { class: 'muted' }, '—')
        : el('div', {}, ...example.meta.map((m) => el('div', { class: 'mono', title: m.text }, m.ok ? `pass ${m.passCount ?? '?'}/8 · length ${m.solutionLength ?? '?'}` : 'unparsed')));
      const right = example.solutions.filter((s) => s.correct).length;
      const chips = el('div', { class: 'chips' }, ...example.solutions.map((s) =>
        el('span', { class: `chip ${s.correct ? 'ok' : 'bad'}`, title: `${s.tokens} tokens, ${s.finishReason}` }, `${s.correct ? '✓' : '✗'} ${s.tokens}${s.finishReason === 'stop' ? '' : ` ${s.finishReason}`}`)));
      const texts = el('details', { class: 'sol' }, el('summary', {}, 'show solutions'),
        ...example.solutions.map((s) => el('div', { class: 'mono' }, el('span', { class: s.correct ? 'ok' : 'bad' }, s.correct ? '✓ ' : '✗ '), s.text)));
      const solutions = el('div', {}, el('div', {}, `${right}/${example.solutions.length} correct`), chips, texts);
      body.append(el('tr', { 'data-step': String(step) }, ...(multi ? [el('td', {}, run.info.name)] : []),
        el('td', {}, String(step)),
        el('td', { class: 'problem' }, el('div', { class: 'mono' }, example.question), el('div', { class: 'muted' }, `answer ${example.answer}`)),
        el('td', {}, meta),
        el('td', {}, solutions)));
    }
    table.append(body);
    container.append(table);
    return;
  }
  // Runs without meta-stats.jsonl: the trainer's samples.jsonl.
  const rows = [];
  for (const run of runs.values()) for (const sample of run.samples.slice(-20)) rows.push({ run, sample });
  rows.sort((a, b) => b.sample.step - a.sample.step);
  if (rows.length === 0) {
    container.append(el('p', { class: 'empty-text' }, 'no samples yet'));
    return;
  }
  const table = el('table', { id: 'samples-table' }, el('thead', {}, el('tr', {}, ...['step', 'branch', 'problem', 'score', 'response'].map((h) => el('th', {}, h)))));
  const body = el('tbody');
  for (const { sample } of rows.slice(0, 20)) {
    body.append(el('tr', {}, el('td', {}, String(sample.step)), el('td', {}, sample.branch), el('td', {}, sample.problemId),
      el('td', { class: sample.score > 0 ? 'ok' : 'bad' }, String(sample.score)), el('td', { class: 'mono' }, String(sample.response || '').slice(0, 400))));
  }
  table.append(body);
  container.append(table);
}

// ---- header --------------------------------------------------------------

function renderHeader() {
  const container = document.getElementById('runs');
  container.replaceChildren();
  [...runs.values()].forEach((run, index) => {
    const last = run.metrics.length === 0 ? 0 : Math.max(...run.metrics.map((l) => l.step || 0));
    const total = run.info.totalSteps ? `/${run.info.totalSteps}` : '';
    const swatch = el('span', { class: 'swatch' });
    swatch.style.borderTopStyle = index === 0 ? 'solid' : index === 2 ? 'dotted' : 'dashed';
    container.append(el('span', { class: 'run-chip', title: run.info.dir }, swatch, el('b', {}, run.info.name), `${run.info.algorithm || ''} · step ${last}${total}`));
  });
}

function renderAll() {
  renderQueued = false;
  renderHeader();
  for (const name of Object.keys(CHARTS)) renderChart(name);
  renderSamples();
  window.masaDashboard.renders += 1;
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(renderAll);
}

function setStatus(text, live) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.classList.toggle('live', live);
}

// ---- stream --------------------------------------------------------------

window.masaDashboard = {
  renders: 0,
  appends: 0,
  /** Points per chart (tests read this). */
  points: () => Object.fromEntries([...document.querySelectorAll('.panel[data-chart]')].map((p) => [p.dataset.chart, Number(p.dataset.points || 0)])),
};

function connect() {
  const source = new EventSource('/api/stream');
  source.addEventListener('snapshot', (event) => {
    const payload = JSON.parse(event.data);
    runs.clear();
    for (const run of payload.runs) {
      const { data, ...info } = run;
      runs.set(info.id, { info, metrics: data.metrics, metaStats: data.metaStats, samples: data.samples });
    }
    lastUpdate = Date.now();
    setStatus('live', true);
    queueRender();
  });
  source.addEventListener('append', (event) => {
    const { run, file, records } = JSON.parse(event.data);
    const state = runs.get(run);
    if (!state) return;
    state[file].push(...records);
    window.masaDashboard.appends += 1;
    lastUpdate = Date.now();
    queueRender();
  });
  source.addEventListener('reset', (event) => {
    const { run, file } = JSON.parse(event.data);
    const state = runs.get(run);
    if (state) state[file] = [];
    queueRender();
  });
  source.addEventListener('run', (event) => {
    const info = JSON.parse(event.data);
    const state = runs.get(info.id);
    if (state) state.info = info;
    queueRender();
  });
  source.onerror = () => setStatus('disconnected — retrying', false);
  source.onopen = () => setStatus('live', true);
}

setInterval(() => {
  if (lastUpdate > 0) {
    const seconds = Math.round((Date.now() - lastUpdate) / 1000);
    if (seconds > 5) document.getElementById('status').textContent = `live · last update ${seconds}s ago`;
  }
}, 1000);

let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const [name, entry] of charts) {
      const target = document.querySelector(`.panel[data-chart="${name}"] .chart`);
      entry.plot.setSize({ width: Math.max(320, target.clientWidth), height: 240 });
    }
  }, 150);
});

connect();

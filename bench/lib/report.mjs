// Turns a benchmark run record into bench/RESULTS.md. Pure: no I/O, no clock.
import { summarize } from './stats.mjs';

/**
 * @typedef {import('./benchmarks.mjs').Figure} Figure
 * @typedef {import('./benchmarks.mjs').Check} Check
 * @typedef {import('./benchmarks.mjs').Ceilings} Ceilings
 * @typedef {{ ok: true, ms: number, figures: Figure[], checks: Check[], ceilings?: Ceilings } | { ok: false, ms: number, error: string }} RunRecord
 * @typedef {{ id: string, label: string, command: string, runs: RunRecord[] }} VariantRecord
 * @typedef {object} BenchmarkRecord
 * @property {string} name
 * @property {string} title
 * @property {string} what
 * @property {'ran' | 'skipped'} status
 * @property {string} [reason] why it was skipped
 * @property {VariantRecord[]} variants
 * @typedef {{ name: string, status: 'present' | 'installed' | 'unavailable' | 'not needed', detail: string }} SetupRecord
 * @typedef {object} RunRecordFile
 * @property {string} startedAt ISO date
 * @property {string} finishedAt ISO date
 * @property {string} command as typed
 * @property {boolean} quick
 * @property {'cpu' | 'cuda'} device
 * @property {import('./machine.mjs').MachineInfo} machine
 * @property {{ one: number, five: number, fifteen: number }} loadStart
 * @property {{ one: number, five: number, fifteen: number }} loadEnd
 * @property {{ status: 'built' | 'not built' | 'build failed', detail: string }} build
 * @property {SetupRecord[]} setup
 * @property {BenchmarkRecord[]} benchmarks
 */

/**
 * A number with as many digits as a benchmark figure deserves (3 significant
 * digits, thousands separated, no exponent for everyday sizes).
 * @param {number} value
 */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  if (magnitude === 0) return '0';
  if (magnitude >= 0.001) return value.toPrecision(3);
  return value.toExponential(1);
}

/** @param {import('./stats.mjs').Summary} summary @param {string} [unit] */
function formatSummary(summary, unit = '') {
  const suffix = unit === '' || unit === '×' ? unit : ` ${unit}`;
  if (summary.n === 1) return `${formatNumber(summary.median)}${suffix} (1 run)`;
  if (summary.min === summary.max) return `${formatNumber(summary.median)}${suffix}`;
  return `${formatNumber(summary.median)}${suffix} (${formatNumber(summary.min)}–${formatNumber(summary.max)})`;
}

/**
 * @typedef {object} FigureSummary
 * @property {string} key
 * @property {string} label
 * @property {string} unit
 * @property {boolean} headline
 * @property {string | undefined} goal
 * @property {import('./stats.mjs').Summary} value
 * @property {{ label: string, unit: string, source: string, value: import('./stats.mjs').Summary, ratio: import('./stats.mjs').Summary } | undefined} anchor
 * @property {string | undefined} anchorSkipped
 */

/**
 * Medians and ranges of every figure of a variant over its successful runs.
 * The ratio is taken run by run (figure ÷ that run's anchor), then summarised.
 * @param {VariantRecord} variant
 * @returns {FigureSummary[]}
 */
export function summarizeVariant(variant) {
  /** @type {Map<string, Figure[]>} */
  const byKey = new Map();
  for (const run of variant.runs) {
    if (!run.ok) continue;
    for (const figure of run.figures) {
      const list = byKey.get(figure.key) ?? [];
      list.push(figure);
      byKey.set(figure.key, list);
    }
  }
  /** @type {FigureSummary[]} */
  const summaries = [];
  for (const [key, figures] of byKey) {
    const last = /** @type {Figure} */ (figures[figures.length - 1]);
    const anchored = figures.filter((figure) => figure.anchor !== undefined && figure.anchor.value > 0);
    const skipped = figures.find((figure) => figure.anchorSkipped !== undefined)?.anchorSkipped;
    const anchor = anchored[anchored.length - 1]?.anchor;
    summaries.push({
      key,
      label: last.label,
      unit: last.unit,
      headline: last.headline === true,
      goal: last.goal,
      value: summarize(figures.map((figure) => figure.value)),
      anchor:
        anchor === undefined
          ? undefined
          : {
              label: anchor.label,
              unit: anchor.unit,
              source: anchor.source,
              value: summarize(anchored.map((figure) => /** @type {number} */ (figure.anchor?.value))),
              ratio: summarize(anchored.map((figure) => figure.value / /** @type {number} */ (figure.anchor?.value))),
            },
      anchorSkipped: anchored.length === figures.length ? undefined : (skipped ?? (anchored.length === 0 ? undefined : 'no anchor in some runs')),
    });
  }
  return summaries;
}

/** @param {string} text */
function cell(text) {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** @param {number} ms */
function formatDuration(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** @param {{ one: number, five: number, fifteen: number }} load */
function formatLoad(load) {
  return `${load.one.toFixed(2)} / ${load.five.toFixed(2)} / ${load.fifteen.toFixed(2)}`;
}

/** @param {FigureSummary} figure */
function ratioCells(figure) {
  if (figure.anchor === undefined) {
    return [figure.anchorSkipped === undefined ? '—' : `skipped: ${figure.anchorSkipped}`, '—', '—'];
  }
  const source = figure.anchor.source === 'same run' ? '' : ` [${figure.anchor.source}]`;
  const partial = figure.anchorSkipped === undefined ? '' : ` (missing in some runs: ${figure.anchorSkipped})`;
  return [`${figure.anchor.label}${source}${partial}`, formatSummary(figure.anchor.value, figure.anchor.unit), formatSummary(figure.anchor.ratio, '×')];
}

/**
 * Renders RESULTS.md.
 * @param {RunRecordFile} record
 * @returns {string}
 */
export function renderResults(record) {
  const lines = [];
  const started = new Date(record.startedAt);
  const took = new Date(record.finishedAt).getTime() - started.getTime();
  const { machine } = record;
  lines.push(`# Benchmark results${record.device === 'cuda' ? ' (CUDA execution provider)' : ''}`, '');
  lines.push('Written by `bench/run.mjs`; do not edit by hand. How to run and read it: `bench/README.md`.', '');
  if (record.quick) {
    lines.push('**Quick run** (`--quick`): fewer repeats and smaller sizes than a full run. Compare it only with other quick runs.', '');
  }
  lines.push(
    `- Date: ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC (took ${formatDuration(took)})`,
    `- Command: \`${record.command}\``,
    `- Commit: ${machine.gitCommit ?? 'unknown'}${machine.gitDirty ? ' (with uncommitted changes in the working tree)' : ''}`,
    `- Device: ${record.device}`,
    '',
  );

  lines.push('## Machine', '', '| | |', '|---|---|');
  lines.push(`| CPU | ${cell(machine.cpuModel)}, ${machine.logicalCores} logical cores |`);
  lines.push(`| Memory | ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB |`);
  lines.push(`| OS | ${cell(machine.os)} |`);
  lines.push(`| Load average (1 / 5 / 15 min) | ${formatLoad(record.loadStart)} at the start · ${formatLoad(record.loadEnd)} at the end |`);
  lines.push(`| Node | ${machine.node}${machine.pnpm ? ` · pnpm ${machine.pnpm}` : ''} |`);
  lines.push(`| onnxruntime-node | ${machine.onnxruntime ?? 'not found'} · intraOpNumThreads 1 (full rollout runs add 2 where the machine has two cores) |`);
  const torch = machine.torch;
  lines.push(
    `| PyTorch | ${torch ? `${torch.version} (${torch.python}${torch.cuda ? ', CUDA available' : ', CPU'}) · 1 thread (OMP/OpenBLAS 1, OMP_WAIT_POLICY=PASSIVE)` : 'not installed'}${machine.blas ? ` · BLAS ${machine.blas}` : ''} |`,
  );
  lines.push(`| GPU | ${machine.gpu ? cell(machine.gpu) : 'none (nvidia-smi not found or no GPU)'} |`);
  lines.push(`| Build | ${record.build.status}: ${cell(record.build.detail)} |`);
  for (const setup of record.setup) lines.push(`| Anchor: ${setup.name} | ${setup.status}: ${cell(setup.detail)} |`);
  lines.push('');

  const ran = record.benchmarks.filter((benchmark) => benchmark.status === 'ran');
  const perVariant = new Map(ran.flatMap((benchmark) => benchmark.variants.map((variant) => [variant, summarizeVariant(variant)])));

  lines.push('## Summary', '');
  lines.push(
    'Each figure is the median over the runs that succeeded, with the range (min–max) in brackets. The ratio is taken run by run ' +
      '(figure ÷ the anchor measured in that run) and summarised the same way. Anchors marked [target] or [reference] are fixed ' +
      'numbers, not measurements of this run.',
    '',
  );
  lines.push('| benchmark | figure | median (min–max) | anchor | anchor median (min–max) | ratio (min–max) | goal |', '|---|---|---|---|---|---|---|');
  for (const benchmark of ran) {
    for (const variant of benchmark.variants) {
      for (const figure of perVariant.get(variant) ?? []) {
        if (!figure.headline) continue;
        const [anchorLabel, anchorValue, ratio] = ratioCells(figure);
        lines.push(
          `| ${cell(variant.id)} | ${cell(figure.label)} | ${formatSummary(figure.value, figure.unit)} | ${cell(anchorLabel)} | ${anchorValue} | ${ratio} | ${cell(figure.goal ?? '')} |`,
        );
      }
      const failed = variant.runs.filter((run) => !run.ok).length;
      if (variant.runs.length > 0 && failed === variant.runs.length) {
        lines.push(`| ${cell(variant.id)} | **every run failed** (see below) | — | — | — | — | |`);
      }
    }
  }
  const notRun = record.benchmarks.filter((benchmark) => benchmark.status === 'skipped');
  for (const benchmark of notRun) lines.push(`| ${cell(benchmark.name)} | **not run**: ${cell(benchmark.reason ?? 'no reason recorded')} | — | — | — | — | |`);
  lines.push('');

  const checks = [];
  for (const benchmark of ran) {
    for (const variant of benchmark.variants) {
      for (const run of variant.runs) {
        if (!run.ok) continue;
        for (const check of run.checks) checks.push({ variant: variant.id, ...check });
      }
    }
  }
  if (checks.length > 0) {
    const failedChecks = checks.filter((check) => !check.ok);
    lines.push(
      failedChecks.length === 0
        ? `Checks: all ${checks.length} passed (${[...new Set(checks.map((check) => `${check.variant}: ${check.label}`))].join('; ')}).`
        : `Checks: **${failedChecks.length} of ${checks.length} FAILED**: ${failedChecks.map((check) => `${check.variant}: ${check.label} (${check.detail})`).join('; ')}.`,
      '',
    );
  }

  lines.push('## Details', '');
  for (const benchmark of record.benchmarks) {
    lines.push(`### ${benchmark.title} (\`${benchmark.name}\`)`, '', benchmark.what, '');
    if (benchmark.status === 'skipped') {
      lines.push(`**Not run**: ${benchmark.reason ?? 'no reason recorded'}`, '');
      continue;
    }
    for (const variant of benchmark.variants) {
      const ok = variant.runs.filter((run) => run.ok);
      const wall = variant.runs.reduce((sum, run) => sum + run.ms, 0);
      lines.push(`**${variant.id}** — ${variant.label}. \`${variant.command}\`, ${variant.runs.length} run(s), ${ok.length} succeeded, ${formatDuration(wall)} in all.`, '');
      const summaries = perVariant.get(variant) ?? [];
      if (summaries.length > 0) {
        lines.push('| figure | median (min–max) | anchor | anchor median (min–max) | ratio (min–max) |', '|---|---|---|---|---|');
        for (const figure of summaries) {
          const [anchorLabel, anchorValue, ratio] = ratioCells(figure);
          lines.push(`| ${cell(figure.label)} | ${formatSummary(figure.value, figure.unit)} | ${cell(anchorLabel)} | ${anchorValue} | ${ratio} |`);
        }
        lines.push('');
      }
      const ceilings = ok.flatMap((run) => (run.ok && run.ceilings ? [run.ceilings] : []));
      const methods = [...new Set(ceilings.flatMap((c) => [...c.bandwidth.map((b) => b.method), ...(c.gemm ? [c.gemm.method] : [])]))];
      if (methods.length > 0) lines.push(`Ceilings measured right after each run: ${methods.join('; ')}.`, '');
      variant.runs.forEach((run, index) => {
        if (!run.ok) lines.push(`- run ${index + 1} **failed** after ${formatDuration(run.ms)}: ${cell(run.error)}`);
      });
      if (variant.runs.some((run) => !run.ok)) lines.push('');
    }
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/**
 * Renders a training job's messages: a step bar with ETA on a TTY
 * (`cli-progress`, loaded only then, with a plain fallback), one plain line
 * per step when the output is not a terminal, NDJSON with `--json`, or
 * nothing but warnings and the summary with `--quiet`.
 */
import type { TrainEvent } from '@masa-rl/trainer';
import type { JobMessage, StepSummary } from './train-job.js';

/** A writable text stream. */
export interface TextOutput {
  write(text: string): unknown;
}

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface ProgressRenderer {
  onMessage(message: JobMessage): void;
  /** A line for the person watching (stderr; above the bar on a TTY). */
  log(line: string): void;
  /** Stops the bar. */
  close(): void;
}

export interface CreateProgressRendererOptions {
  mode: ProgressMode;
  /** NDJSON in `json` mode, step lines in `plain` mode, the bar in `tty` mode. */
  stdout: TextOutput;
  /** Logs and warnings. */
  stderr: TextOutput;
  /** Millisecond clock (ETA). @default performance.now */
  now?: () => number;
}

const fixed = (value: number | null | undefined, digits = 3): string => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const percent = (value: number | null | undefined): string => (value === null || value === undefined || !Number.isFinite(value) ? '–' : `${Math.round(value * 100)}%`);

/** 1234 → `1.2k`. */
export function compactCount(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (Math.abs(value) >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

/** Seconds → `1h02m`, `3m05s`, `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The per-step numbers every renderer shows. */
export interface StepLine {
  step: number;
  totalSteps: number;
  reward: number | undefined;
  accuracy: number | null;
  metaReward: number | undefined;
  gatedFraction: number | undefined;
  tokensSaved: number;
  secondsPerStep: number | undefined;
  etaSeconds: number | undefined;
}

/** One plain progress line. */
export function formatStepLine(line: StepLine): string {
  const parts = [
    `step ${line.step}/${line.totalSteps}`,
    `reward ${fixed(line.reward)}`,
    `acc ${percent(line.accuracy)}`,
  ];
  if (line.metaReward !== undefined) parts.push(`meta ${fixed(line.metaReward)}`);
  if (line.gatedFraction !== undefined) parts.push(`gated ${percent(line.gatedFraction)}`);
  if (line.tokensSaved > 0) parts.push(`saved ${compactCount(line.tokensSaved)} tok`);
  if (line.secondsPerStep !== undefined) parts.push(`${line.secondsPerStep.toFixed(1)} s/step`);
  if (line.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(line.etaSeconds)}`);
  return parts.join(' · ');
}

interface BarLike {
  start(total: number, value: number, payload: Record<string, string>): void;
  update(value: number, payload: Record<string, string>): void;
  stop(): void;
}

interface MultiBarLike {
  create(total: number, value: number, payload: Record<string, string>): BarLike;
  log(text: string): void;
  /** Redraws (flushes logged lines). */
  update(): void;
  stop(): void;
}

interface CliProgressModule {
  MultiBar: new (options: Record<string, unknown>, preset?: unknown) => MultiBarLike;
  Presets: { shades_classic: unknown };
}

/** Creates the renderer for a mode (`tty` falls back to `plain` when `cli-progress` cannot be loaded). */
export async function createProgressRenderer(options: CreateProgressRendererOptions): Promise<ProgressRenderer> {
  const { stdout, stderr, now = () => performance.now() } = options;
  let mode = options.mode;
  let multibar: MultiBarLike | undefined;
  let bar: BarLike | undefined;
  if (mode === 'tty') {
    try {
      const module = (await import('cli-progress')) as unknown as CliProgressModule & { default?: CliProgressModule };
      const cliProgress = module.default ?? module;
      multibar = new cliProgress.MultiBar(
        {
          format: ' {bar} step {value}/{total} · ETA {etaText} · {stats}',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          etaBuffer: 10,
          stream: process.stderr,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
    } catch {
      mode = 'plain';
    }
  }

  let totalSteps = 0;
  let startStep = 0;
  let firstStepStarted: number | undefined;
  let stepsDone = 0;
  let lastSummary: StepSummary | undefined;
  let phase = '';

  const log = (line: string): void => {
    if (mode === 'tty' && multibar !== undefined) {
      multibar.log(`${line}\n`);
      multibar.update();
    }
    else stderr.write(`${line}\n`);
  };

  const stepLine = (event: Extract<TrainEvent, { type: 'step-end' }>): StepLine => {
    const elapsed = firstStepStarted === undefined ? undefined : (now() - firstStepStarted) / 1000;
    const perStep = elapsed === undefined || stepsDone === 0 ? undefined : elapsed / stepsDone;
    const summary = lastSummary?.step === event.step ? lastSummary : undefined;
    return {
      step: event.step,
      totalSteps,
      reward: event.metrics['critic/score/mean'],
      accuracy: summary?.accuracy ?? null,
      metaReward: event.metrics['masa/meta_reward/mean'],
      gatedFraction: event.metrics['masa/gated_frac'],
      tokensSaved: summary?.tokensSaved ?? 0,
      secondsPerStep: perStep,
      etaSeconds: perStep === undefined ? undefined : perStep * Math.max(0, totalSteps - event.step),
    };
  };

  let lastLine: StepLine | undefined;
  const barStats = (line: StepLine | undefined): Record<string, string> => {
    if (line === undefined) return { stats: phase === '' ? 'starting' : phase, etaText: '–' };
    const text = formatStepLine({ ...line, secondsPerStep: undefined, etaSeconds: undefined }).split(' · ').slice(1).join(' · ');
    return { stats: text, etaText: line.etaSeconds === undefined ? '–' : formatDuration(line.etaSeconds) };
  };

  const onEvent = (event: TrainEvent): void => {
    switch (event.type) {
      case 'run-start': {
        totalSteps = event.totalSteps;
        startStep = event.startStep;
        const resumed = event.resumedFrom === null ? '' : ` (resumed from ${event.resumedFrom})`;
        if (mode !== 'quiet') log(`masa train: ${event.algorithm}, steps ${event.startStep + 1}..${event.totalSteps}, engine ${event.engine}, backend ${event.backend}${resumed}`);
        if (mode !== 'quiet') log(`run folder: ${event.runDir}`);
        if (multibar !== undefined) bar = multibar.create(totalSteps, startStep, barStats(undefined));
        break;
      }
      case 'step-start':
        firstStepStarted ??= now();
        phase = `step ${event.step}: rollouts`;
        bar?.update(event.step - 1, barStats(lastLine));
        break;
      case 'step-end': {
        stepsDone += 1;
        const line = stepLine(event);
        lastLine = line;
        if (mode === 'plain') stdout.write(`${formatStepLine(line)}\n`);
        bar?.update(event.step, barStats(line));
        break;
      }
      case 'validation-end': {
        const values = Object.entries(event.metrics).map(([key, value]) => `${key} ${fixed(value)}`);
        if (values.length > 0 && mode !== 'quiet') log(`validation at step ${event.step}: ${values.join(', ')}`);
        break;
      }
      case 'checkpoint-saved':
        if (mode !== 'quiet' && mode !== 'tty') log(`checkpoint ${event.path}`);
        break;
      case 'warning':
        log(`warning (step ${event.step}, ${event.code}): ${event.message}`);
        break;
      default:
        break;
    }
  };

  return {
    onMessage(message) {
      if (mode === 'json') {
        stdout.write(`${JSON.stringify(message.type === 'event' ? message.event : message)}\n`);
        if (message.type === 'event' && message.event.type === 'warning') stderr.write(`warning (step ${message.event.step}, ${message.event.code}): ${message.event.message}\n`);
        return;
      }
      if (message.type === 'event') onEvent(message.event);
      else if (message.type === 'step-summary') lastSummary = message.summary;
      else if (message.type === 'loading' && mode !== 'quiet') log(`loading ${message.what}…`);
      else if (message.type === 'stop-checkpoint' && message.checkpoint.saved && mode !== 'quiet') log(`checkpoint ${message.checkpoint.path} (step ${message.checkpoint.step})`);
    },
    log(line) {
      if (mode === 'json') stderr.write(`${line}\n`);
      else log(line);
    },
    close() {
      multibar?.stop();
      multibar = undefined;
      bar = undefined;
    },
  };
}

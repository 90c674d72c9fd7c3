/**
 * `masa ui RUN_DIR [RUN_DIR…]`: serve the dashboard of finished or running
 * runs (overlaid on the same axes) until Ctrl-C.
 */
import { startDashboard, type Dashboard } from './dashboard/server.js';
import type { TextOutput } from './progress.js';
import { waitForStopSignal, type SignalSource } from './train-command.js';

export interface UiCommandFlags {
  /** @default 8765 */
  port?: number;
}

export interface UiCommandIo {
  /** @default process.stderr */
  stderr?: TextOutput;
  /** @default process */
  signals?: SignalSource;
  /** Test seam: called once the server listens. */
  _internal?: { onDashboard?: (dashboard: Dashboard) => void };
}

/** Serves the dashboard until SIGINT/SIGTERM. */
export async function runUiCommand(runDirs: readonly string[], flags: UiCommandFlags = {}, io: UiCommandIo = {}): Promise<void> {
  const stderr = io.stderr ?? process.stderr;
  const signals = io.signals ?? process;
  const dashboard = await startDashboard({ runDirs, ...(flags.port === undefined ? {} : { port: flags.port }) });
  stderr.write(`dashboard: ${dashboard.url} (${runDirs.length} run${runDirs.length === 1 ? '' : 's'}); press Ctrl-C to stop\n`);
  io._internal?.onDashboard?.(dashboard);
  await waitForStopSignal(signals);
  await dashboard.close();
}

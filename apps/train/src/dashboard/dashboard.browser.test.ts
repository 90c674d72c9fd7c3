/**
 * Issue 8 acceptance 3: the dashboard in a real headless Chromium (Debian's
 * `chromium` package, driven by playwright-core; no browser download). A small
 * finished run is generated with the simulated policy; every chart must have
 * data, a line appended to metrics.jsonl must show up live, and a screenshot
 * is saved to apps/train/test-results/dashboard.png. Skipped, with the reason,
 * when Chromium is not installed (`apt-get install -y chromium`).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeRun, tempDir } from '../__tests__/fake-run.js';
import { startDashboard, type Dashboard } from './server.js';

const chromiumPath = [process.env['MASA_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => path !== undefined && path !== '' && existsSync(path));
const artifacts = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results');

if (chromiumPath === undefined) {
  // Visible in the test output: why the browser check did not run.
  process.stderr.write('dashboard.browser.test: skipped — no Chromium at /usr/bin/chromium (install Debian\'s `chromium` package, or set MASA_CHROMIUM)\n');
}

type Browser = Awaited<ReturnType<typeof import('playwright-core')['chromium']['launch']>>;

describe.skipIf(chromiumPath === undefined)('dashboard in headless Chromium', () => {
  let runDir: string;
  let dashboard: Dashboard;
  let browser: Browser;

  beforeAll(async () => {
    runDir = tempDir('browser');
    await fakeRun({ runDir });
    dashboard = await startDashboard({ runDirs: [runDir], port: 0, pollMs: 100 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath as string, args: ['--no-sandbox', '--disable-gpu'] });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    if (runDir !== undefined) rmSync(runDir, { recursive: true, force: true });
  });

  it('draws every chart with data, shows the recent rollouts, and updates live', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(dashboard.url);
    await page.waitForFunction(() => (globalThis as unknown as { masaDashboard?: { renders: number } }).masaDashboard?.renders ?? 0 > 0);
    const points = await page.evaluate(() => (globalThis as unknown as { masaDashboard: { points(): Record<string, number> } }).masaDashboard.points());
    expect(Object.keys(points).sort()).toEqual(['calibration', 'gating', 'length', 'meta', 'reward', 'timings', 'tokens']);
    for (const [chart, count] of Object.entries(points)) expect(count, `chart ${chart}`).toBeGreaterThan(0);
    // uPlot drew a canvas in every chart panel.
    expect(await page.locator('.panel[data-chart] canvas').count()).toBe(7);
    // The table of recent rollouts: problem, meta prediction, solutions with correctness.
    const firstRow = page.locator('#samples-table tbody tr').first();
    await expect.poll(() => firstRow.getAttribute('data-step')).toBe('6');
    expect(await firstRow.innerText()).toMatch(/Compute .*\n?answer \d+[\s\S]*pass \d\/8 · length \d+[\s\S]*\d\/4 correct/);

    // A live update: one more metrics line reaches the reward chart without a reload.
    const before = points['reward'] as number;
    const last = JSON.parse(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1) as string) as Record<string, number>;
    appendFileSync(join(runDir, 'metrics.jsonl'), `${JSON.stringify({ ...last, step: 7, 'critic/score/mean': 0.99 })}\n`);
    await page.waitForFunction(
      (count) => ((globalThis as unknown as { masaDashboard: { points(): Record<string, number> } }).masaDashboard.points()['reward'] ?? 0) > count,
      before,
      { timeout: 10_000 },
    );
    await expect.poll(() => page.locator('#runs').innerText()).toMatch(/step 7\/6/);
    expect(errors).toEqual([]);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
    await page.close();
  });
});

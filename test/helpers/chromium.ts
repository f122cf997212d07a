/**
 * Opens the lab's HTML report in Debian's headless Chromium: a screenshot of the page as it
 * is, and, from a copy with a measuring script added (the report itself has none), what every
 * timeline chart drew: its scenario and run, how many request marks and holder bars, and its
 * on-screen size and the bounding box of its content.
 */
import type { ExecutionContext } from 'ava';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run } from './tools.js';

/** What Chromium drew for one `svg.timeline`. */
export interface RenderedChart {
  scenario: string;
  run: string;
  requests: number;
  holdings: number;
  /** On-screen size of the svg element, CSS px. */
  width: number;
  height: number;
  /** getBBox() of its content. */
  bboxWidth: number;
  bboxHeight: number;
}

const MEASURE = `<script>
addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.timeline')].map((s) => {
    const r = s.getBoundingClientRect();
    const b = s.getBBox();
    return { scenario: s.dataset.scenario, run: s.dataset.run, requests: s.querySelectorAll('rect.req').length,
      holdings: s.querySelectorAll('rect.hold').length, width: r.width, height: r.height, bboxWidth: b.width, bboxHeight: b.height };
  });
  const pre = document.createElement('pre');
  pre.id = 'k8sha-charts';
  pre.textContent = JSON.stringify(charts);
  document.body.append(pre);
});
</script>`;

const CHROMIUM = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-extensions'];

/**
 * Renders `html` (a file) in headless Chromium under `dir`: writes `dir/report.png`
 * (1000 px wide) and returns the charts it drew; undefined (test failed) without Chromium.
 */
export function renderInChromium(t: ExecutionContext, html: string, dir: string): RenderedChart[] | undefined {
  if (!requireTool(t, 'chromium')) return undefined;
  const png = join(dir, 'report.png');
  const profile = join(dir, 'chromium-profile');
  const shot = run('chromium', [...CHROMIUM, `--user-data-dir=${profile}`, '--window-size=1000,1400', `--screenshot=${png}`, `file://${html}`], { timeout: 120_000 });
  t.is(shot.code, 0, shot.stderr.slice(-2000));
  t.true((statSync(png, { throwIfNoEntry: false })?.size ?? 0) > 10_000, 'the screenshot is (nearly) empty');
  const measured = join(dir, 'measured.html');
  writeFileSync(measured, readFileSync(html, 'utf8').replace('</body>', `${MEASURE}</body>`));
  const dom = run('chromium', [...CHROMIUM, `--user-data-dir=${profile}`, '--virtual-time-budget=5000', '--dump-dom', `file://${measured}`], { timeout: 120_000 });
  t.is(dom.code, 0, dom.stderr.slice(-2000));
  const m = /<pre id="k8sha-charts">([^<]*)<\/pre>/.exec(dom.stdout);
  if (!m) {
    t.fail(`Chromium ran no measuring script: ${dom.stdout.slice(0, 500)}`);
    return undefined;
  }
  return JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as RenderedChart[];
}

/** Checks that Chromium drew one non-empty chart per `expected` "scenario/run". */
export function checkCharts(t: ExecutionContext, charts: RenderedChart[] | undefined, expected: string[]): void {
  if (!charts) return;
  t.deepEqual(charts.map((c) => `${c.scenario}/${c.run}`), expected);
  for (const c of charts) {
    const what = `${c.scenario} run ${c.run}`;
    t.true(c.requests > 0, `${what}: no request drawn`);
    t.true(c.holdings > 0, `${what}: no VIP holding drawn`);
    t.true(c.width >= 900 && c.height > 50, `${what}: chart is ${c.width}x${c.height}`);
    t.true(c.bboxWidth > 500 && c.bboxHeight > 50, `${what}: content box is ${c.bboxWidth}x${c.bboxHeight}`);
  }
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeInlineScript } from './assets.js';
import { escapeHtml, formatNumber, jsonForScript } from './html.js';
import { buildReportPage } from './page.js';
import type { RunFiles } from './run-files.js';

/** The page's text outside the inlined libraries (they are large and tested by the browser test). */
function ownMarkup(html: string): string {
  return html.replace(/(<script data-lib=[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
}

function run(partial: Partial<RunFiles>): RunFiles {
  return {
    dir: '/runs/x',
    name: 'x',
    best: undefined,
    watched: [],
    configText: undefined,
    metrics: [],
    scores: undefined,
    summary: undefined,
    mixing: undefined,
    reconstructions: undefined,
    ...partial,
  };
}

describe('escaping', () => {
  it('escapeHtml', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('jsonForScript reads back to the same value and never contains "<" (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const s = jsonForScript(v);
        expect(s).not.toContain('<');
        expect(JSON.parse(s)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('escapeInlineScript keeps a script from closing its element', () => {
    expect(escapeInlineScript('var s = "</script><script>x()</SCRIPT>";')).toBe(
      'var s = "<\\/script><script>x()<\\/SCRIPT>";',
    );
    // The escaped code means the same thing.
    expect(new Function(`return ${escapeInlineScript('"</script>" + /<\\/script>/.source')}`)()).toBe(
      '</script><\\/script>',
    );
  });

  it('formatNumber', () => {
    expect([0.91, 0.4071051049, 1229.3586, 500, 1e-5, 2.5e7, Number.NaN, -0.25].map(formatNumber)).toEqual([
      '0.9100',
      '0.4071',
      '1229.4',
      '500',
      '1.000e-5',
      '25000000',
      'NaN',
      '-0.2500',
    ]);
  });
});

describe('buildReportPage', () => {
  it('run files cannot inject markup: config text and names are escaped', () => {
    const page = buildReportPage(
      {
        kind: 'run',
        run: run({
          configText: 'name: "</pre><script>alert(1)</script>"\n',
          metrics: [{ step: 1, epoch: 0, metrics: { 'a<b/d/train/loss': 0.5 } }],
          scores: { 'a<b/d/test/accuracy': 0.5 },
          summary: { tasks: ['<i>a</i>'] },
        }),
      },
      new Date('2025-01-02T03:04:05Z'),
    );
    const markup = ownMarkup(page.html);
    expect(markup).not.toContain('<script>alert');
    expect(markup).not.toContain('a<b');
    expect(markup).not.toContain('<i>');
    expect(markup).toContain('&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(markup).toContain('a\\u003cb'); // in the charts' JSON
    expect(markup).toContain('written 2025-01-02 03:04:05 UTC');
    // Three libraries, the charts' JSON and the start-up script: nothing else runs.
    expect(markup.match(/<script/g)).toHaveLength(5);
    expect(page.scoreCells).toBe(1);
    expect(page.kind).toBe('multitask');
    expect(page.inProgress).toBe(false);
  });

  it('a run with nothing but its config says so in each section', () => {
    const page = buildReportPage({ kind: 'run', run: run({ configText: 'model:\n  kind: vmtl\n' }) });
    expect(page.kind).toBe('vmtl'); // from the config, before mixing.json exists
    expect(page.inProgress).toBe(true);
    expect(page.charts).toEqual([]);
    const markup = ownMarkup(page.html);
    expect(markup).toContain('No scores.json yet');
    expect(markup).toContain('No metrics.jsonl lines yet');
    expect(markup).toContain('in progress');
  });

  it('several runs: names are escaped, one column group and one legend entry per run', () => {
    const metrics = [{ step: 5, epoch: 1, metrics: { 't/d/train/loss': 0.5, 't/d/valid/loss': 0.4 } }];
    const page = buildReportPage({
      kind: 'runs',
      dir: '/runs',
      name: '2 runs',
      runs: [
        {
          label: 'a<b',
          run: run({ dir: '/runs/a<b', name: 'a<b', metrics, scores: { 't/d/test/loss': 0.1 } }),
        },
        {
          label: 'c',
          run: run({
            dir: '/runs/c',
            name: 'c',
            metrics,
            best: { metric: 't/d/valid/loss', mode: 'min', value: 0.4, step: 5, epoch: 1 },
            configText: 'training:\n  lr: 0.1\n',
          }),
        },
      ],
    });
    expect(page.kind).toBe('runs');
    expect(page.inProgress).toBe(true); // c has no scores.json yet
    expect(page.scoreCells).toBe(1);
    expect(page.charts).toEqual([
      { id: 'curves-t', section: 'curves', title: 't', rows: 4, best: [{ run: 'c', step: 5 }] },
    ]);
    const markup = ownMarkup(page.html);
    expect(markup).not.toContain('a<b');
    expect(markup).toContain('<th class="run" colspan="1">a&lt;b</th><th class="run" colspan="1">c</th>');
    expect(markup).toContain('No scores.json yet for: c.');
    expect(markup).toContain('(none for: a&lt;b)');
    expect(markup).toContain('step 5 (epoch 1), t/d/valid/loss = 0.4000 (min)');
    expect(markup).toContain('Fewer than two runs have a config.resolved.yaml to compare.');
  });
});

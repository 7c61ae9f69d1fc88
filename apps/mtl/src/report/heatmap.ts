import type { TopLevelSpec } from 'vega-lite';

/** One axis of a {@link heatmapSpec}: the field it reads and its categories in order. */
export interface HeatmapAxis {
  field: string;
  sort: readonly string[];
  title: string;
}

/** A tooltip entry of a {@link heatmapSpec}. */
export interface HeatmapTooltip {
  field: string;
  type: 'nominal' | 'quantitative';
  format?: string;
  title?: string;
}

/**
 * What a {@link heatmapSpec} draws: `values` (one object per cell), coloured by `color.field` on a
 * fixed domain, labelled with the value to 2 decimals (white where `labelTest` holds, on dark
 * cells).
 */
export interface HeatmapOptions {
  title: string;
  subtitle: string;
  values: readonly Record<string, unknown>[];
  width: number;
  height: number;
  x: HeatmapAxis;
  y: HeatmapAxis;
  color: { field: string; title: string; domain: readonly [number, number]; scheme: string };
  tooltip: readonly HeatmapTooltip[];
  /** Name of the coloured layer (`cosines`, `weights`, ...). */
  layer: string;
  /** A Vega expression on `datum`: where the label is white. */
  labelTest: string;
  /**
   * Some cells have no value (null): every cell is drawn grey (layer `cells`) and only the valued
   * ones are coloured and labelled.
   */
  gaps?: boolean;
}

/**
 * One Vega-Lite heatmap for the report: the conflict heatmap, the VMTL mixing heatmaps and the gate
 * heatmaps share it, so that they look and read alike.
 * @example
 * const spec = heatmapSpec({
 *   title: 'gates', subtitle: 'mean weight', values: [{ gate: 'a', expert: 'e0', value: 1 }],
 *   width: 88, height: 44, x: { field: 'expert', sort: ['e0'], title: 'expert' },
 *   y: { field: 'gate', sort: ['a'], title: 'gate' },
 *   color: { field: 'value', title: 'weight', domain: [0, 1], scheme: 'blues' },
 *   tooltip: [{ field: 'value', type: 'quantitative' }], layer: 'weights', labelTest: 'datum.value > 0.55',
 * });
 */
export function heatmapSpec(o: HeatmapOptions): TopLevelSpec {
  const columns = o.x.sort.length;
  const transform = o.gaps === true ? { transform: [{ filter: `isValid(datum.${o.color.field})` }] } : {};
  const layer: unknown[] = [];
  if (o.gaps === true) {
    layer.push({
      name: 'cells',
      mark: { type: 'rect', fill: '#f2f2f2', stroke: '#ffffff', strokeWidth: 2 },
    });
  }
  layer.push(
    {
      name: o.layer,
      ...transform,
      mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 2 },
      encoding: {
        color: {
          field: o.color.field,
          type: 'quantitative',
          title: o.color.title,
          scale: { domain: [...o.color.domain], scheme: o.color.scheme },
        },
        tooltip: [...o.tooltip],
      },
    },
    {
      name: 'labels',
      ...transform,
      mark: { type: 'text', fontSize: columns > 8 ? 9 : 12 },
      encoding: {
        text: { field: o.color.field, type: 'quantitative', format: '.2f' },
        color: { condition: { test: o.labelTest, value: '#ffffff' }, value: '#222222' },
      },
    },
  );
  return {
    title: { text: o.title, subtitle: o.subtitle },
    data: { values: [...o.values] },
    width: o.width,
    height: o.height,
    encoding: {
      x: {
        field: o.x.field,
        type: 'nominal',
        sort: [...o.x.sort],
        title: o.x.title,
        axis: { labelAngle: columns > 6 ? -45 : 0 },
      },
      y: { field: o.y.field, type: 'nominal', sort: [...o.y.sort], title: o.y.title },
    },
    layer,
  } as TopLevelSpec;
}

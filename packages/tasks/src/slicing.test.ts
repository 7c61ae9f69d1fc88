import type { MtlError } from '@mtl/core';
import { DictDataset } from '@mtl/data';
import { describe, expect, it } from 'vitest';
import {
  evaluateSlice,
  type SliceCondition,
  sliceConditionSchema,
  sliceMasks,
  slicesSchema,
} from './index.js';

function dataset(): DictDataset {
  return new DictDataset(
    'd',
    'train',
    {
      x: [
        [0.1, 0.9],
        [0.6, 0.7],
        [0.8, 0.2],
        [0.3, 0.5],
        [-1, -1],
      ],
      length: [3, 12, 4, 5, 20],
      tokens: [[1, 2], [3], [4, 5, 6, 7], [], [8, 9, 10]],
      colour: Int32Array.from([0, 1, 2, 1, 0]),
    },
    { y: Int32Array.from([0, 1, 1, 0, -1]), score: Float32Array.from([1.5, Number.NaN, 2, 0, 3]) },
    { dictionaries: { colour: ['red', 'green', 'blue'] } },
  );
}

const rows = (m: Uint8Array) => [...m.keys()].filter((r) => m[r] === 1);

function failure(f: () => unknown): MtlError {
  try {
    f();
  } catch (e) {
    return e as MtlError;
  }
  throw new Error('did not throw');
}

describe('slicing functions', () => {
  it('select the rows their tests and combinations describe', () => {
    const ds = dataset();
    const cases: [SliceCondition, number[]][] = [
      [{ field: 'length', lt: 5 }, [0, 2]],
      [{ field: 'length', ge: 4, le: 12 }, [1, 2, 3]],
      [{ field: 'x', index: 0, gt: 0.5 }, [1, 2]],
      [{ label: 'score', gt: 1 }, [0, 2, 4]], // NaN is in no slice
      [{ not: { label: 'score', gt: 1 } }, [1, 3]], // ... but in its complement
      [{ field: 'x', index: 1, ne: 0.5 }, [0, 1, 2, 4]],
      [{ field: 'tokens', length: true, ge: 3 }, [2, 4]],
      [{ field: 'colour', eq: 'green' }, [1, 3]],
      [{ field: 'colour', in: ['red', 'blue'] }, [0, 2, 4]],
      [{ field: 'colour', eq: 'purple' }, []],
      [{ field: 'colour', in: [2] }, [2]],
      [{ label: 'y', eq: 1 }, [1, 2]],
      [
        {
          all: [
            { field: 'x', index: 0, gt: 0.5 },
            { field: 'x', index: 1, gt: 0.5 },
          ],
        },
        [1],
      ],
      [
        {
          any: [
            { field: 'length', gt: 15 },
            { field: 'colour', eq: 'blue' },
          ],
        },
        [2, 4],
      ],
      [{ not: { field: 'length', lt: 5 } }, [1, 3, 4]],
      [
        {
          not: {
            any: [
              { label: 'y', eq: 0 },
              { label: 'y', eq: -1 },
            ],
          },
        },
        [1, 2],
      ],
    ];
    for (const [condition, expected] of cases) {
      expect(rows(evaluateSlice(ds, condition)), JSON.stringify(condition)).toEqual(expected);
    }
    const masks = sliceMasks(ds, {
      short: { field: 'length', lt: 5 },
      green: { field: 'colour', eq: 'green' },
    });
    expect(Object.keys(masks)).toEqual(['short', 'green']);
    expect(Array.from(masks.short!)).toEqual([1, 0, 1, 0, 0]);
  });

  it('are refused with a message at the path of the mistake', () => {
    const issue = (c: unknown) => {
      const r = sliceConditionSchema.safeParse(c);
      expect(r.success).toBe(false);
      const i = r.error!.issues[0]!;
      return `${i.path.join('.')}: ${i.message}`;
    };
    expect(issue({ field: 'length' })).toMatch(/^: a test needs a comparison: one or more of /);
    expect(issue({ lt: 3 })).toMatch(/needs one of "field", "label" .* or "all", "any", "not"/);
    expect(issue({ field: 'a', label: 'b', eq: 1 })).toMatch(/not several \(field, label\)/);
    expect(issue({ all: [{ field: 'a', eq: 1 }], lt: 3 })).toBe(
      'lt: "lt" belongs to a test ("field" or "label"), not to "all"',
    );
    expect(issue({ field: 'a', index: 0, length: true, lt: 3 })).toBe(
      'length: "index" and "length" exclude each other',
    );
    expect(issue({ all: [{ field: 'a', eq: 1 }, { field: 'b' }] })).toMatch(
      /^all\.1: a test needs a comparison/,
    );
    expect(issue({ not: { field: 'a', lt: 'x' } })).toMatch(/^not\.lt:/);
    expect(issue({ field: 'a', lte: 3 })).toMatch(/unknown key|Unrecognized key/i);
    expect(issue({ field: 'a', in: [] })).toMatch(/^in:/);
    const names = slicesSchema.safeParse({ base: { field: 'a', eq: 1 } });
    expect(names.error!.issues[0]!.message).toMatch(/"base" is the slice of every row/);
    expect(slicesSchema.safeParse({}).success).toBe(false);
    // evaluateSlice validates too, placing the error under its place.
    const e = failure(() =>
      evaluateSlice(dataset(), { all: [{ field: 'length' }] } as SliceCondition, 'tasks.y.slices.s'),
    );
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.place).toBe('tasks.y.slices.s.all[0]');
  });

  it('are checked against the dataset, with errors naming the condition path', () => {
    const ds = dataset();
    const at = (c: SliceCondition) => {
      const e = failure(() => sliceMasks(ds, { s: c }, 'tasks.y.slices'));
      return [e.code, e.place, e.reason];
    };
    expect(at({ field: 'size', lt: 5 })).toEqual([
      'UNKNOWN_FIELD',
      'tasks.y.slices.s.field',
      'dataset d/train has no field "size" (fields: colour, length, tokens, x)',
    ]);
    expect(
      at({
        all: [
          { field: 'length', gt: 1 },
          { label: 'z', eq: 1 },
        ],
      })[1],
    ).toBe('tasks.y.slices.s.all[1].label');
    expect(at({ field: 'x', gt: 0 })).toEqual([
      'CONFIG_INVALID',
      'tasks.y.slices.s',
      'field "x" has 2 values per row: say which with "index" (0..1)',
    ]);
    expect(at({ field: 'x', index: 2, gt: 0 })[1]).toBe('tasks.y.slices.s.index');
    expect(at({ field: 'length', length: true, gt: 0 })[2]).toMatch(
      /"length" counts the items of a variable-length field/,
    );
    expect(at({ field: 'tokens', gt: 0 })[2]).toMatch(
      /varying length: test their length with "length: true"/,
    );
    expect(at({ any: [{ field: 'length', eq: 'long' }] })).toEqual([
      'CONFIG_INVALID',
      'tasks.y.slices.s.any[0].eq',
      'compares with the string "long", but field "length" holds numbers (strings name the categories of a categorical field)',
    ]);
    const badName = failure(() => sliceMasks(ds, { 'a/b': { field: 'length', lt: 1 } }, 'slices'));
    expect(badName.place).toBe('slices.a/b');
  });
});

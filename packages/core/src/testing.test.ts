import { describe, expect, it } from 'vitest';
import { assertMtl, MtlError } from './errors.js';
import { caught } from './testing.js';

describe('caught', () => {
  it('returns the MtlError a function throws, with its code and place', () => {
    const e = caught(() => assertMtl(false, 'INVALID_ARGUMENT', () => 'bad', 'x'));
    expect(e).toBeInstanceOf(MtlError);
    expect([e.code, e.place]).toEqual(['INVALID_ARGUMENT', 'x']);
  });

  it('awaits a promise or a function that returns one', async () => {
    const reject = () => Promise.reject(new MtlError('FILE_NOT_FOUND', 'gone', { place: 'a.csv' }));
    expect((await caught(reject())).place).toBe('a.csv');
    expect((await caught(reject)).code).toBe('FILE_NOT_FOUND');
  });

  it('rethrows any other error and fails when nothing is thrown', async () => {
    expect(() => caught(() => JSON.parse('{'))).toThrow(SyntaxError);
    expect(() => caught(() => 1)).toThrow('expected an MtlError, but nothing was thrown');
    await expect(caught(Promise.resolve(1))).rejects.toThrow('but the promise resolved');
    await expect(caught(Promise.reject(new RangeError('r')))).rejects.toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { assertMtl, isMtlError, listNames, MtlError, toMtlError } from './errors.js';

describe('MtlError', () => {
  it('prefixes the place and keeps code, reason and details', () => {
    const e = new MtlError('DATA_LENGTH_MISMATCH', 'field "x" has 10 rows but "y" has 9', {
      place: 'dataset circle/train',
      details: { x: 10, y: 9 },
    });
    expect(e.message).toBe('dataset circle/train: field "x" has 10 rows but "y" has 9');
    expect(e.code).toBe('DATA_LENGTH_MISMATCH');
    expect(e.reason).toBe('field "x" has 10 rows but "y" has 9');
    expect(e.details).toEqual({ x: 10, y: 9 });
    expect(e).toBeInstanceOf(Error);
    expect(isMtlError(e, 'DATA_LENGTH_MISMATCH')).toBe(true);
    expect(isMtlError(e, 'CYCLE')).toBe(false);
  });

  it('within() nests an outer place', () => {
    const e = new MtlError('CSV_PARSE', 'not a number', { place: 'line 3, column "x"' }).within('data/a.csv');
    expect(e.message).toBe('data/a.csv line 3, column "x": not a number');
  });

  it('toMtlError normalises foreign errors and passes ours through', () => {
    const ours = new MtlError('CYCLE', 'a -> b -> a');
    expect(toMtlError(ours)).toBe(ours);
    const foreign = toMtlError(new TypeError('boom'), 'here');
    expect(foreign.code).toBe('INTERNAL');
    expect(foreign.message).toBe('here: boom');
    expect(toMtlError('text').message).toBe('text');
  });

  it('assertMtl builds the message only on failure', () => {
    let built = 0;
    assertMtl(true, 'INVALID_ARGUMENT', () => {
      built++;
      return 'never';
    });
    expect(built).toBe(0);
    expect(() => assertMtl(false, 'INVALID_ARGUMENT', () => 'bad', 'loader')).toThrow('loader: bad');
  });

  it('listNames sorts and handles empty lists', () => {
    expect(listNames(['b', 'a'])).toBe('a, b');
    expect(listNames([])).toBe('(none)');
  });
});

import fc from 'fast-check';
import { expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64 } from './base64.js';

it('encodes and decodes exactly as Node Buffer does', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = bytesToBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(base64ToBytes(text)).toEqual(new Uint8Array(Buffer.from(text, 'base64')));
      expect(base64ToBytes(text)).toEqual(bytes);
    }),
  );
});

it('decodes damaged text as leniently as Buffer', () => {
  for (const text of ['AACAPwAAAEA', 'AAC APw\nAAAEA=', 'AACAPw==AAAEA', 'A', 'AB', 'AB-_', 'é*AB']) {
    expect(base64ToBytes(text)).toEqual(new Uint8Array(Buffer.from(text, 'base64')));
  }
});

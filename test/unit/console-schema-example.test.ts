import { describe, expect, it } from 'vitest';
import { exampleArguments } from '../../packages/console/web/schema-example.js';

describe('console try-it arguments template', () => {
  it('fills each property with its default, example, enum or an empty value of its type', () => {
    const schema = {
      type: 'object',
      properties: {
        text: { type: 'string' },
        count: { type: 'integer' },
        ratio: { type: 'number', default: 0.5 },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        tags: { type: 'array', items: { type: 'string' } },
        dryRun: { type: 'boolean' },
        city: { type: 'string', examples: ['Lyon'] },
        nested: { type: 'object', properties: { inner: { type: ['string', 'null'] } } },
        either: { anyOf: [{ type: 'number' }, { type: 'string' }] },
      },
      required: ['text'],
    };
    expect(JSON.parse(exampleArguments(schema))).toEqual({
      text: '',
      count: 0,
      ratio: 0.5,
      mode: 'fast',
      tags: [],
      dryRun: false,
      city: 'Lyon',
      nested: { inner: '' },
      either: 0,
    });
  });

  it('gives an empty object for a tool without properties or without a schema', () => {
    expect(exampleArguments({ type: 'object' })).toBe('{}');
    expect(exampleArguments(undefined)).toBe('{}');
    expect(exampleArguments({ type: 'string' })).toBe('{}');
  });
});

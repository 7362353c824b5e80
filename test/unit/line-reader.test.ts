import { describe, expect, it } from 'vitest';
import { LineReader, parseJsonRpcLine } from '@mcp-mesh/bridge';

const lines = (reader: LineReader) => [...reader.lines()];

describe('LineReader: newline-delimited frames from an upstream stdout', () => {
  it('returns whole lines only, across chunk boundaries, with CRLF and blank lines', () => {
    const reader = new LineReader();
    reader.append(Buffer.from('{"a":1}\n{"b":'));
    expect(lines(reader)).toEqual(['{"a":1}']);
    reader.append(Buffer.from('2'));
    expect(lines(reader)).toEqual([]);
    reader.append(Buffer.from('}\r\n\n{"c":3}\n'));
    expect(lines(reader)).toEqual(['{"b":2}', '{"c":3}']);
    expect(lines(reader)).toEqual([]);
  });

  it('keeps a multi-byte character split between two reads intact', () => {
    const bytes = Buffer.from('{"text":"naïve — ✓"}\n');
    const reader = new LineReader();
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of the dash
    reader.append(bytes.subarray(0, cut));
    expect(lines(reader)).toEqual([]);
    reader.append(bytes.subarray(cut));
    expect(lines(reader)).toEqual(['{"text":"naïve — ✓"}']);
  });

  it('splits a 1 MB line delivered in 64 KiB reads into exactly one message', () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(1_000_000) } }) + '\n';
    const bytes = Buffer.from(big);
    const reader = new LineReader();
    const got: string[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) {
      reader.append(bytes.subarray(at, at + 65_536));
      got.push(...reader.lines());
    }
    expect(got).toHaveLength(1);
    expect(parseJsonRpcLine(got[0]!)).toMatchObject({ id: 1 });
  });
});

describe('parseJsonRpcLine', () => {
  it('accepts any JSON-RPC 2.0 object and leaves its content alone', () => {
    expect(parseJsonRpcLine('{"jsonrpc":"2.0","id":7,"result":{"_meta":{"x":1},"anything":[1,"2"]}}')).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { _meta: { x: 1 }, anything: [1, '2'] },
    });
  });

  it('names what is wrong with a line that is not a message', () => {
    expect(() => parseJsonRpcLine('server starting on stdout')).toThrow(/not JSON.*server starting on stdout/);
    expect(() => parseJsonRpcLine('[1,2]')).toThrow(/not a JSON-RPC 2.0 message/);
    expect(() => parseJsonRpcLine('{"id":1,"result":{}}')).toThrow(/not a JSON-RPC 2.0 message/);
  });
});

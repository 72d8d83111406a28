import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance } from '@kbuild/loader/internal';
import { nearest, oneOf } from './nearest.js';

describe('nearest', () => {
  it('orders by edit distance, then by the longer shared prefix', () => {
    const listed = ['6.12.48+deb13-amd64', '6.1.0-47-amd64', '6.1.0-47-cloud-amd64', '6.1.0-46-amd64', '5.10.0-46-amd64'];
    assert.deepEqual(nearest('6.1.0-48-amd64', listed), ['6.1.0-47-amd64', '6.1.0-46-amd64', '5.10.0-46-amd64']);
    assert.deepEqual(nearest('6.1.0-47-cloud-amd6', listed, 1), ['6.1.0-47-cloud-amd64']);
    assert.deepEqual(nearest('x', []), []);
  });
  it('edit distance and "a, b or c"', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(oneOf(['a', 'b', 'c']), 'a, b or c');
    assert.equal(oneOf(['a']), 'a');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternateScreenAfter } from '../src/terminals/ansi';

test('the last alternate-screen switch in the output wins', () => {
  assert.equal(alternateScreenAfter('plain text', false), false);
  assert.equal(alternateScreenAfter('plain text', true), true);
  assert.equal(alternateScreenAfter('\x1b[?1049hTUI', false), true);
  assert.equal(alternateScreenAfter('\x1b[?1049h…\x1b[?1049l$ ', false), false);
  assert.equal(alternateScreenAfter('\x1b[?47h', false), true);
  assert.equal(alternateScreenAfter('\x1b[?1047l', true), false);
  assert.equal(alternateScreenAfter('\x1b[?2004h\x1b[?25l', false), false, 'other private modes do not count');
});

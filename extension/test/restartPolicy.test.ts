import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from '../src/sidecar/restartPolicy';

test('restarts after each crash until maxCrashes happen within the window', () => {
  const p = new RestartPolicy({ maxCrashes: 3, windowMs: 60_000 });
  assert.equal(p.onCrash(0).restart, true);
  assert.equal(p.onCrash(1_000).restart, true);
  const third = p.onCrash(2_000);
  assert.equal(third.restart, false);
  assert.deepEqual(third, { restart: false, crashes: 3, windowMs: 60_000 });
});

test('crashes older than the window are forgotten', () => {
  const p = new RestartPolicy({ maxCrashes: 2, windowMs: 10_000 });
  assert.equal(p.onCrash(0).restart, true);
  assert.equal(p.onCrash(10_001).restart, true, 'the first crash is out of the window');
  assert.equal(p.recentCrashes(10_001), 1);
  assert.equal(p.onCrash(12_000).restart, false);
});

test('the first restart is immediate and later ones back off, capped', () => {
  const p = new RestartPolicy({ maxCrashes: 100, windowMs: 60_000 });
  const delays = Array.from({ length: 8 }, (_, i) => {
    const d = p.onCrash(i);
    assert.equal(d.restart, true);
    return d.restart ? d.delayMs : -1;
  });
  assert.equal(delays[0], 0);
  for (let i = 2; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1]);
  assert.ok(delays.every((d) => d <= 4_000));
});

test('reset forgets every crash (the user pressed retry)', () => {
  const p = new RestartPolicy({ maxCrashes: 1, windowMs: 60_000 });
  assert.equal(p.onCrash(0).restart, false);
  p.reset();
  assert.equal(p.recentCrashes(1), 0);
});

test('nonsense options are refused', () => {
  assert.throws(() => new RestartPolicy({ maxCrashes: 0, windowMs: 1 }), RangeError);
});

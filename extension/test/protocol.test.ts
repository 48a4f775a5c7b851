import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientNotifications, ErrorCodes, Methods, ServerNotifications } from '../src/protocol/methods';

const contract = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'tests', 'testdata', 'protocol', 'methods.json'), 'utf8'));

test('request method constants match the shared protocol contract', () => {
  assert.deepEqual(Object.values(Methods).sort(), [...contract.requests].sort());
});

test('notification constants match the shared protocol contract', () => {
  assert.deepEqual(Object.values(ClientNotifications).sort(), [...contract.clientNotifications].sort());
  assert.deepEqual(Object.values(ServerNotifications).sort(), [...contract.serverNotifications].sort());
});

test('error codes match the shared protocol contract', () => {
  assert.deepEqual({ ...ErrorCodes }, contract.errorCodes);
});

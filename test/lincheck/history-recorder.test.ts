import t from 'tap';
import { checkLinearizable } from './checker.js';
import { HistoryRecorder } from './history-recorder.js';
import { kv, kvModel, type KvInput, type KvOutput } from './kv-model.js';

t.test('the recorder orders calls and returns by when they were observed', async (t) => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  const putReturned = recorder.begin(1, kv.put('x', 'a'));
  const getReturned = recorder.begin(2, kv.get('x'));
  putReturned(kv.ok());
  getReturned(kv.value('a'));
  t.same(recorder.operations().map((op) => [op.call, op.return]), [[1, 3], [2, 4]]);
  t.same(checkLinearizable(kvModel, recorder.operations()), { ok: true });
});

t.test('an operation whose return is never recorded stays pending', async (t) => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  recorder.begin(1, kv.put('x', 'a'));
  const [op] = recorder.operations();
  t.equal(op?.return, undefined);
  t.equal(op?.output, undefined);
});

t.test('a given clock replaces the logical one', async (t) => {
  let now_ms = 100;
  const recorder = new HistoryRecorder<KvInput, KvOutput>(() => now_ms);
  const returned = recorder.begin(1, kv.get('x'));
  now_ms = 250;
  returned(kv.value(undefined));
  t.same(recorder.operations().map((op) => [op.call, op.return]), [[100, 250]]);
});

t.test('recording a return twice is refused', async (t) => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  const returned = recorder.begin(1, kv.get('x'));
  returned(kv.value(undefined));
  t.throws(() => returned(kv.value(undefined)), { code: 'INTERNAL' });
});

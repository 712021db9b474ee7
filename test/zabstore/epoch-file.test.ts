import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { EpochFile } from '../../zab/storage/epoch-file.js';
import { tempDir } from './fixtures.js';

t.test('a new replica starts with both epochs 0', async (t) => {
  const file = await EpochFile.open(tempDir(t));
  t.same(file.epochs, { acceptedEpoch: 0, currentEpoch: 0 });
});

t.test('written epochs survive a reopen and leave no temp file', async (t) => {
  const dir = tempDir(t);
  const file = await EpochFile.open(dir);
  await file.write({ acceptedEpoch: 3, currentEpoch: 2 });
  await file.write({ acceptedEpoch: 4, currentEpoch: 4 });
  t.same((await EpochFile.open(dir)).epochs, { acceptedEpoch: 4, currentEpoch: 4 });
  t.same(readdirSync(dir), ['epochs']);
});

t.test('a crash before the rename leaves the previous epochs in force', async (t) => {
  const dir = tempDir(t);
  const file = await EpochFile.open(dir);
  await file.write({ acceptedEpoch: 5, currentEpoch: 5 });
  // What a crash after writing the temp file but before the rename leaves behind.
  writeFileSync(join(dir, 'epochs.tmp'), 'partial');
  t.same((await EpochFile.open(dir)).epochs, { acceptedEpoch: 5, currentEpoch: 5 });
  await (await EpochFile.open(dir)).write({ acceptedEpoch: 6, currentEpoch: 5 });
  t.same((await EpochFile.open(dir)).epochs, { acceptedEpoch: 6, currentEpoch: 5 });
});

t.test('epochs never go backwards and currentEpoch never exceeds acceptedEpoch', async (t) => {
  const file = await EpochFile.open(tempDir(t));
  await file.write({ acceptedEpoch: 3, currentEpoch: 3 });
  await t.rejects(file.write({ acceptedEpoch: 2, currentEpoch: 2 }), { code: 'INTERNAL' });
  await t.rejects(file.write({ acceptedEpoch: 4, currentEpoch: 5 }), { code: 'INTERNAL' });
  t.same(file.epochs, { acceptedEpoch: 3, currentEpoch: 3 });
});

t.test('a corrupt epoch file is refused with the file named', async (t) => {
  const dir = tempDir(t);
  await (await EpochFile.open(dir)).write({ acceptedEpoch: 1, currentEpoch: 1 });
  writeFileSync(join(dir, 'epochs'), Buffer.alloc(24, 7));
  await t.rejects(EpochFile.open(dir), { code: 'CORRUPT_LOG', message: /epochs/ });
});

/** The ring's JSON document: round trip, compactness, and rejection of malformed documents. */
import t from 'tap';
import { RingHasher } from '../../ring/hasher.js';
import { Ring } from '../../ring/ring.js';
import type { RingDocument } from '../../ring/ring-document.js';
import { ringOfGroups } from './reference.js';

const hasher = await RingHasher.create();
const ring = ringOfGroups(Ring.empty(hasher), 5).withGroupRemoved('g2').withGroupState('g3', 'leaving');

t.test('a ring survives toJSON -> JSON text -> fromJSON unchanged', (t) => {
  const text = JSON.stringify(ring.toJSON());
  const back = Ring.fromJSON(JSON.parse(text), hasher);
  t.same(back.toJSON(), ring.toJSON());
  t.equal(JSON.stringify(back.toJSON()), text, 'the same text');
  t.equal(back.version, ring.version);
  t.equal(back.vnodesPerGroup, ring.vnodesPerGroup);
  t.same(back.entries(), ring.entries());
  t.same(back.groups(), ring.groups());
  t.end();
});

t.test('the document lists groups with state and base64 tokens, 8 bytes a token', (t) => {
  const doc = ring.toJSON();
  t.same(Object.keys(doc.groups), ['g1', 'g3', 'g4', 'g5']);
  t.equal(doc.groups.g3!.state, 'leaving');
  t.equal(Buffer.from(doc.groups.g1!.tokens, 'base64').length, ring.tokensOf('g1').length * 8);
  t.equal(Buffer.from(doc.groups.g1!.tokens, 'base64').readBigUInt64BE(0), ring.tokensOf('g1')[0]);
  t.end();
});

function validDocument(): RingDocument {
  return JSON.parse(JSON.stringify(ring.toJSON())) as RingDocument;
}

const eightBytes = (value: bigint): string => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return bytes.toString('base64');
};

const malformed: Array<[string, (doc: Record<string, unknown>) => unknown, RegExp]> = [
  ['not an object', () => [1, 2], /expected a JSON object/],
  ['null', () => null, /expected a JSON object/],
  ['no version', (doc) => { delete doc.version; return doc; }, /no "version"/],
  ['an unknown top-level key', (doc) => ({ ...doc, extra: 1 }), /unknown key "extra"/],
  ['a negative version', (doc) => ({ ...doc, version: -1 }), /version must be a non-negative integer/],
  ['a fractional version', (doc) => ({ ...doc, version: 1.5 }), /version must be a non-negative integer/],
  ['a version as a string', (doc) => ({ ...doc, version: '3' }), /version must be a non-negative integer/],
  ['vnodesPerGroup 0', (doc) => ({ ...doc, vnodesPerGroup: 0 }), /vnodesPerGroup must be an integer/],
  ['groups as an array', (doc) => ({ ...doc, groups: [] }), /groups must be an object/],
  ['a bad group id', (doc) => ({ ...doc, groups: { 'Bad Id!': { state: 'active', tokens: eightBytes(1n) } } }), /bad key: invalid group id/],
  ['a group that is not an object', (doc) => ({ ...doc, groups: { g1: 'x' } }), /groups.g1 must be an object/],
  ['a group without tokens', (doc) => ({ ...doc, groups: { g1: { state: 'active' } } }), /groups.g1 has no "tokens"/],
  ['an unknown group key', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: eightBytes(1n), weight: 2 } } }), /unknown key "weight"/],
  ['an unknown state', (doc) => ({ ...doc, groups: { g1: { state: 'sleeping', tokens: eightBytes(1n) } } }), /state must be/],
  ['tokens that are not base64', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: 'not base64!' } } }), /must be a base64 string/],
  ['tokens that are a number', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: 7 } } }), /must be a base64 string/],
  ['no tokens at all', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: '' } } }), /one or more 8-byte tokens, got 0 bytes/],
  ['tokens of 6 bytes', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: Buffer.alloc(6).toString('base64') } } }), /got 6 bytes/],
  ['tokens out of order', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: Buffer.concat([Buffer.from(eightBytes(9n), 'base64'), Buffer.from(eightBytes(3n), 'base64')]).toString('base64') } } }), /strictly ascending/],
  ['a token held by two groups', (doc) => ({ ...doc, groups: { g1: { state: 'active', tokens: eightBytes(5n) }, g2: { state: 'active', tokens: eightBytes(5n) } } }), /also another group's token/],
];

for (const [name, spoil, message] of malformed) {
  t.test(`a document with ${name} is rejected with BAD_ARGUMENTS`, (t) => {
    const doc = spoil(validDocument() as unknown as Record<string, unknown>);
    t.throws(() => Ring.fromJSON(doc, hasher), { code: 'BAD_ARGUMENTS', message });
    t.end();
  });
}

t.test('a ring with no groups round-trips', (t) => {
  const empty = Ring.empty(hasher, { vnodesPerGroup: 64, version: 4 });
  t.same(Ring.fromJSON(empty.toJSON(), hasher).toJSON(), { version: 4, vnodesPerGroup: 64, groups: {} });
  t.end();
});

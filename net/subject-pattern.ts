import { ShardkvError } from '../errors/codes.js';

/**
 * NATS subject matching for the in-process bus: tokens separated by '.', `*` matches
 * exactly one token, `>` (last token only) matches one or more remaining tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i += 1) {
    const token = want[i];
    if (token === '>') return i === want.length - 1 && have.length > i;
    if (i >= have.length) return false;
    if (token !== '*' && token !== have[i]) return false;
  }
  return want.length === have.length;
}

/** True when the subject is one NATS accepts for publishing: non-empty tokens, no wildcards, no whitespace. */
export function isPublishableSubject(subject: string): boolean {
  return subject.length > 0 && !/\s/.test(subject) && subject.split('.').every((token) => token.length > 0 && token !== '*' && token !== '>');
}

/** True when the subject is a valid subscription pattern: non-empty tokens, `>` only as the last token. */
export function isSubscribableSubject(subject: string): boolean {
  if (subject.length === 0 || /\s/.test(subject)) return false;
  const tokens = subject.split('.');
  return tokens.every((token, i) => token.length > 0 && (token !== '>' || i === tokens.length - 1));
}

/** Throws BAD_ARGUMENTS unless subject is valid for the use (both transports check the same way). */
export function assertSubject(subject: string, use: 'publish' | 'subscribe'): void {
  const valid = use === 'publish' ? isPublishableSubject(subject) : isSubscribableSubject(subject);
  if (!valid) {
    throw new ShardkvError('BAD_ARGUMENTS', `invalid subject to ${use}: ${JSON.stringify(subject)}`
      + ' (dot-separated non-empty tokens, no whitespace' + (use === 'publish' ? ', no wildcards)' : ", '>' only last)"));
  }
}

/** The admin token check: constant-time, on hashes so that lengths never leak or throw. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** `undefined` token = no auth (--insecure-no-auth). */
export function makeTokenCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    // Compare even when the header is missing, so timing says nothing about which check failed.
    const given = digest(match ? match[1].trim() : '\0no-token');
    return timingSafeEqual(given, expected) && match !== null;
  };
}

/**
 * Emails are compared in one canonical form so that "Ada@Example.com " and "ada@example.com" are the
 * same account: Unicode NFKC, trimmed, lower-cased. (RFC 5321 lets the local part be case-sensitive,
 * but no mainstream provider treats it so, and two accounts differing only by case are a support and
 * phishing hazard.)
 */
export function normaliseEmail(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

// Pragmatic shape check (one @, a dot in the domain, no spaces); deliverability is proven by
// verification mail, not by a regular expression.
const EMAIL_SHAPE = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

export function isPlausibleEmail(email: string): boolean {
  return email.length <= 254 && EMAIL_SHAPE.test(email);
}

import { domainToASCII, domainToUnicode } from 'node:url';

// Addresses are looked up by their lower-cased form, so two spellings that lower-case (or that a
// mail system case-folds or normalizes) to the same text are one mailbox to Foyer and perhaps two
// to the world, or the reverse. Only addresses whose every fold is plain ASCII lower-casing are
// taken; what looks like something else (invisible characters, look-alikes of the organization's
// own domain) is refused. The rules are described in docs/security.md.

/** Invisible and control characters: other (Cc, Cf, Cs, Co, Cn) and default-ignorable code points (zero-width, bidi, soft hyphen, variation selectors, fillers). */
const INVISIBLE = /[\p{C}\p{Default_Ignorable_Code_Point}]/u;
const NON_ASCII = /[^\p{ASCII}]/u;
const LOCAL_PART_FORBIDDEN = /[~!#$%^&*()+=[\]{}\\/|;:"<>?,\s@]/;
const ASCII_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A top-level domain: letters, or an internationalized one in its ASCII (xn--) form. */
const ASCII_TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** The text with each invisible or control character written as <U+XXXX>, so a message quoting it shows what was sent. */
export const visibleText = (text: string): string => text.replace(new RegExp(INVISIBLE.source, 'gu'), (c) => `<${codePoint(c)}>`);

/** Plain ASCII lower-casing, the only folding Foyer applies to addresses (valid addresses fold no other way). */
export const foldEmail = (address: string): string => address.replace(/[A-Z]+/g, (s) => s.toLowerCase());

/** Whether `domain` is a domain name in ASCII (internationalized labels in their xn-- form), any case. */
export function isAsciiDomainName(domain: string): boolean {
  const d = domain.toLowerCase();
  if (d.length > 253) return false;
  const labels = d.split('.');
  if (labels.length < 2 || !labels.every((l) => ASCII_LABEL.test(l)) || !ASCII_TLD.test(labels[labels.length - 1]!)) return false;
  // An xn-- label must decode, and encode back to itself (no upper case or disallowed characters inside).
  return !d.includes('xn--') || domainToASCII(d) === d;
}

/** The first character of `text` that lower-cases, case-folds or normalizes (NFKC) to something else, with what it becomes. */
function firstFoldingCharacter(text: string): { char: string; becomes: string } | null {
  for (const char of text) {
    if (!NON_ASCII.test(char)) continue;
    for (const becomes of [char.toLowerCase(), char.toUpperCase().toLowerCase(), char.normalize('NFKC').toLowerCase()])
      if (becomes !== char) return { char, becomes };
  }
  return null;
}

/**
 * Whether `domain` (Unicode) spells `own` with some letters swapped for non-ASCII ones: accents are
 * dropped, then every remaining position holds the same ASCII character or a non-ASCII one (a
 * Cyrillic 'с' in 'сontoso.test', a Greek 'ο'). `own` and its subdomains are compared.
 */
function spellsLike(domain: string, own: string): boolean {
  const bare = domain.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const matchesAt = (start: number) => [...own].every((c, i) => bare[start + i] === c || NON_ASCII.test(bare[start + i] ?? 'x'));
  if (bare.length === own.length) return matchesAt(0);
  const start = bare.length - own.length;
  return start > 0 && bare[start - 1] === '.' && matchesAt(start);
}

const refusal = (address: string, why?: string) => `The email address '${visibleText(address)}' is not valid${why ? `: ${why}` : ''}.`;

/**
 * Why `address` (an email address or a sign-in name) could stand for another spelling, as a
 * sentence that names it: an invisible or control character, a character that lower-cases,
 * case-folds or normalizes to something else, or text that is not in composed form. Null when
 * ASCII lower-casing is its only folding, so looking it up by its lower-cased form is safe.
 */
export function foldingProblem(address: string): string | null {
  const invisible = INVISIBLE.exec(address);
  if (invisible) return refusal(address, `it contains an invisible or control character (${codePoint(invisible[0])})`);
  const folding = firstFoldingCharacter(address);
  if (folding)
    return refusal(
      address,
      `it contains '${folding.char}' (${codePoint(folding.char)}), which case folding or normalization turns into '${folding.becomes}'; type the address with '${folding.becomes}' instead`,
    );
  // A sequence can compose (e and a combining accent into é) where each character alone is stable.
  const composed = address.normalize('NFKC');
  if (composed !== address) return refusal(address, `it is not written in composed form; type it as '${composed}'`);
  return null;
}

/**
 * Why `address` cannot be used as an email address, as a sentence that names it; null when it can.
 * `ownDomains` are the organization's domains: addresses in them take only ASCII before the @, and
 * an internationalized domain that spells one of them with look-alike letters is refused.
 */
export function emailProblem(address: string, ownDomains: readonly string[] = []): string | null {
  const refused = (why?: string) => refusal(address, why);
  const folding = foldingProblem(address);
  if (folding) return folding;
  if (address.length > 254) return refused('it is longer than 254 characters');
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return refused();
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || LOCAL_PART_FORBIDDEN.test(local) || /^[.-]|[.-]$/.test(local) || local.includes('..')) return refused();
  if (NON_ASCII.test(domain)) {
    const ascii = domainToASCII(domain);
    return refused(
      ascii && isAsciiDomainName(ascii) ? `write its domain in ASCII (punycode) form: '${local}@${ascii}'` : `its domain '${domain}' is not a domain name`,
    );
  }
  if (!isAsciiDomainName(domain)) return refused();
  const lowerDomain = domain.toLowerCase();
  for (const own of ownDomains) {
    const ownLower = own.toLowerCase();
    const inOwn = lowerDomain === ownLower || lowerDomain.endsWith(`.${ownLower}`);
    if (inOwn && NON_ASCII.test(local)) return refused(`addresses in the organization's domain '${ownLower}' take only ASCII characters before the @`);
    if (!inOwn && lowerDomain.includes('xn--') && spellsLike(domainToUnicode(lowerDomain), ownLower))
      return refused(`its domain '${lowerDomain}' (${domainToUnicode(lowerDomain)}) looks like the organization's domain '${ownLower}'`);
  }
  return null;
}

/** Whether `address` is a usable email address (see `emailProblem`). */
export const isValidEmail = (address: string, ownDomains: readonly string[] = []): boolean => emailProblem(address, ownDomains) === null;

export const emailDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

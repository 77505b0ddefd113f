/**
 * Email address check with Graph's invitation rules: none of ~ ! # $ % ^ & * ( ) + = [ ] { } \ / | ; : " < > ? ,
 * anywhere; '.' and '-' neither first nor last in the local part; '_' allowed; a dotted domain.
 */
export function isValidEmail(address: string): boolean {
  if (address.length > 254) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || /[~!#$%^&*()+=[\]{}\\/|;:"<>?,\s@]/.test(local)) return false;
  if (/^[.-]|[.-]$/.test(local) || local.includes('..')) return false;
  return /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(domain);
}

export const emailDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

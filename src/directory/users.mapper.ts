import type { UserRow } from './users.repository.js';

const json = <T>(text: string): T => JSON.parse(text) as T;

/** Graph property → value, computed from a row only for the properties asked for. */
const userProperties: Record<string, (r: UserRow) => unknown> = {
  id: (r) => r.id,
  displayName: (r) => r.display_name,
  givenName: (r) => r.given_name,
  surname: (r) => r.surname,
  mail: (r) => r.mail,
  otherMails: (r) => json<string[]>(r.other_mails),
  userPrincipalName: (r) => r.user_principal_name,
  mailNickname: (r) => r.mail_nickname,
  userType: (r) => r.user_type,
  accountEnabled: (r) => Boolean(r.account_enabled),
  createdDateTime: (r) => r.created_at,
  creationType: (r) => r.creation_type,
  externalUserState: (r) => r.external_user_state,
  externalUserStateChangeDateTime: (r) => r.external_user_state_changed_at,
  identities: (r) => json<unknown[]>(r.identities),
  companyName: (r) => r.company_name,
  jobTitle: (r) => r.job_title,
  department: (r) => r.department,
  preferredLanguage: (r) => r.preferred_language,
  signInActivity: (r) => ({ lastSignInDateTime: r.last_sign_in_at, lastSuccessfulSignInDateTime: r.last_successful_sign_in_at }),
  deletedDateTime: (r) => r.deleted_at,
  businessPhones: (r) => json<string[]>(r.business_phones),
  mobilePhone: (r) => r.mobile_phone,
  officeLocation: (r) => r.office_location,
  foyerSource: (r) => r.source,
  // The inviter's name is filled in by the service (`withInviterNames`): it lives in another row.
  foyerInvitedBy: (r) => (r.invited_by ? { id: r.invited_by, displayName: null } : null),
};

/** The columns each property is computed from (kept next to `userProperties` so they cannot drift apart). */
const userPropertyColumns: Record<keyof typeof userProperties, (keyof UserRow)[]> = {
  id: ['id'],
  displayName: ['display_name'],
  givenName: ['given_name'],
  surname: ['surname'],
  mail: ['mail'],
  otherMails: ['other_mails'],
  userPrincipalName: ['user_principal_name'],
  mailNickname: ['mail_nickname'],
  userType: ['user_type'],
  accountEnabled: ['account_enabled'],
  createdDateTime: ['created_at'],
  creationType: ['creation_type'],
  externalUserState: ['external_user_state'],
  externalUserStateChangeDateTime: ['external_user_state_changed_at'],
  identities: ['identities'],
  companyName: ['company_name'],
  jobTitle: ['job_title'],
  department: ['department'],
  preferredLanguage: ['preferred_language'],
  signInActivity: ['last_sign_in_at', 'last_successful_sign_in_at'],
  deletedDateTime: ['deleted_at'],
  businessPhones: ['business_phones'],
  mobilePhone: ['mobile_phone'],
  officeLocation: ['office_location'],
  foyerSource: ['source'],
  foyerInvitedBy: ['invited_by'],
};

/**
 * The users columns `toGraphUser` needs for `select` (always `id`), plus `extra`. Lists read only
 * these: materializing all ~35 columns of every row was most of a page's cost on both engines.
 */
export function userColumnsFor(select: readonly string[], extra: readonly (keyof UserRow)[] = []): (keyof UserRow)[] {
  const columns = new Set<keyof UserRow>(['id', ...extra]);
  for (const p of select) for (const c of userPropertyColumns[p as keyof typeof userProperties] ?? []) columns.add(c);
  return [...columns];
}

/** A user in Graph's shape with the selected properties; `id` is always included, as Graph does. */
export function toGraphUser(row: UserRow, select: readonly string[], withType = false): Record<string, unknown> {
  const out: Record<string, unknown> = withType ? { '@odata.type': '#microsoft.graph.user' } : {};
  if (!select.includes('id')) out.id = row.id;
  for (const p of select) out[p] = userProperties[p]!(row);
  return out;
}

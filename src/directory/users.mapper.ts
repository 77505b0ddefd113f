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
};

/** A user in Graph's shape with the selected properties; `id` is always included, as Graph does. */
export function toGraphUser(row: UserRow, select: readonly string[], withType = false): Record<string, unknown> {
  const out: Record<string, unknown> = withType ? { '@odata.type': '#microsoft.graph.user' } : {};
  if (!select.includes('id')) out.id = row.id;
  for (const p of select) out[p] = userProperties[p]!(row);
  return out;
}

import type { Identity, UserRow } from './users.repository.js';
import { newId } from '../ids.js';

export interface NewUser {
  tenantId: string;
  id?: string;
  displayName: string;
  userPrincipalName: string;
  mailNickname: string;
  userType: 'Member' | 'Guest';
  createdAt: string;
  identities: Identity[];
  accountEnabled?: boolean;
  mail?: string | null;
  givenName?: string | null;
  surname?: string | null;
  otherMails?: string[];
  businessPhones?: string[];
  passwordHash?: string | null;
}

/**
 * A complete users row with the case-folded copies computed, so every writer (API, invitations,
 * bootstrap, seed) stores the same shape. Optional Graph properties go in `extra`.
 */
export function buildUserRow(user: NewUser, extra: Partial<UserRow> = {}): UserRow {
  const lower = (v: string | null | undefined) => (v == null ? null : v.toLowerCase());
  return {
    tenant_id: user.tenantId,
    id: user.id ?? newId(),
    display_name: user.displayName,
    display_name_lower: user.displayName.toLowerCase(),
    given_name: user.givenName ?? null,
    given_name_lower: lower(user.givenName),
    surname: user.surname ?? null,
    surname_lower: lower(user.surname),
    mail: user.mail ?? null,
    mail_lower: lower(user.mail),
    other_mails: JSON.stringify(user.otherMails ?? []),
    user_principal_name: user.userPrincipalName,
    user_principal_name_lower: user.userPrincipalName.toLowerCase(),
    mail_nickname: user.mailNickname,
    user_type: user.userType,
    account_enabled: user.accountEnabled === false ? 0 : 1,
    created_at: user.createdAt,
    creation_type: null,
    external_user_state: null,
    external_user_state_changed_at: null,
    identities: JSON.stringify(user.identities),
    company_name: null,
    job_title: null,
    department: null,
    preferred_language: null,
    business_phones: JSON.stringify(user.businessPhones ?? []),
    mobile_phone: null,
    office_location: null,
    last_sign_in_at: null,
    last_successful_sign_in_at: null,
    deleted_at: null,
    password_hash: user.passwordHash ?? null,
    source: null,
    invited_by: null,
    consented_at: null,
    ...extra,
  };
}

import type { EntityDefinition, FilterableProperty } from '../graph/entity.js';

const str = (column: string, extra: Partial<FilterableProperty> = {}): FilterableProperty => ({
  column,
  type: 'string',
  caseInsensitive: true,
  startsWith: true,
  ...extra,
});
const dt = (column: string, nullable = false): FilterableProperty => ({ column, type: 'datetime', nullable });

/** The Graph `user` entity as Foyer serves it: properties, filters, sorts, search. */
export const userEntity: EntityDefinition = {
  type: 'user',
  entitySet: 'users',
  properties: [
    'id',
    'displayName',
    'givenName',
    'surname',
    'mail',
    'otherMails',
    'userPrincipalName',
    'mailNickname',
    'userType',
    'accountEnabled',
    'createdDateTime',
    'creationType',
    'externalUserState',
    'externalUserStateChangeDateTime',
    'identities',
    'companyName',
    'jobTitle',
    'department',
    'preferredLanguage',
    'signInActivity',
    'deletedDateTime',
    'businessPhones',
    'mobilePhone',
    'officeLocation',
    // Foyer's extensions (not Graph properties): where a guest came from and who invited them.
    'foyerSource',
    'foyerInvitedBy',
  ],
  defaultProperties: [
    'businessPhones',
    'displayName',
    'givenName',
    'id',
    'jobTitle',
    'mail',
    'mobilePhone',
    'officeLocation',
    'preferredLanguage',
    'surname',
    'userPrincipalName',
  ],
  filterable: {
    id: { column: 'id', type: 'guid' },
    displayName: str('display_name_lower', { endsWith: true }),
    givenName: str('given_name_lower', { nullable: true }),
    surname: str('surname_lower', { nullable: true }),
    mail: str('mail_lower', { nullable: true, endsWith: true }),
    userPrincipalName: str('user_principal_name_lower', { endsWith: true }),
    userType: { column: 'user_type', type: 'enum', values: ['Member', 'Guest'] },
    accountEnabled: { column: 'account_enabled', type: 'boolean' },
    createdDateTime: dt('created_at'),
    creationType: { column: 'creation_type', type: 'enum', values: ['Invitation', 'LocalAccount', 'EmailVerified', 'SelfServiceSignUp'], nullable: true },
    externalUserState: { column: 'external_user_state', type: 'enum', values: ['PendingAcceptance', 'Accepted'], nullable: true },
    externalUserStateChangeDateTime: dt('external_user_state_changed_at', true),
    'signInActivity/lastSignInDateTime': dt('last_sign_in_at', true),
    'signInActivity/lastSuccessfulSignInDateTime': dt('last_successful_sign_in_at', true),
    foyerSource: { column: 'source', type: 'enum', values: ['directory', 'bulk', 'teams', 'sharepoint', 'api'], nullable: true },
  },
  lambdas: {
    otherMails: {
      table: 'user_other_mails',
      ownerColumn: 'user_id',
      members: { '': { column: 'address_lower', type: 'string', caseInsensitive: true, startsWith: true } },
    },
    identities: {
      table: 'user_identities',
      ownerColumn: 'user_id',
      members: {
        issuerAssignedId: { column: 'issuer_assigned_id_lower', type: 'string', caseInsensitive: true, startsWith: true },
        issuer: { column: 'issuer', type: 'string' },
        signInType: { column: 'sign_in_type', type: 'string' },
      },
    },
  },
  sortable: { displayName: 'display_name_lower', userPrincipalName: 'user_principal_name_lower', createdDateTime: 'created_at' },
  keyColumn: 'id',
  advancedQueryGating: true,
  searchable: ['displayName', 'mail', 'userPrincipalName'],
};

/** Column of the search index per searchable property. */
export const userSearchFields = { displayName: 'display_name', mail: 'mail', userPrincipalName: 'user_principal_name' } as const;

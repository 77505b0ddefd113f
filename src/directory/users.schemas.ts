import { Type, type Static } from '@sinclair/typebox';

const nullableString = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Null()]);
const odataType = Type.Optional(Type.String());

export const PasswordProfile = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: 256 }),
    forceChangePasswordNextSignIn: Type.Optional(Type.Boolean()),
    forceChangePasswordNextSignInWithMfa: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Identity = Type.Object(
  {
    signInType: Type.String({ minLength: 1, maxLength: 64 }),
    issuer: Type.String({ minLength: 1, maxLength: 256 }),
    issuerAssignedId: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

const writable = {
  '@odata.type': odataType,
  displayName: Type.String({ minLength: 1, maxLength: 256 }),
  givenName: Type.Optional(nullableString(64)),
  surname: Type.Optional(nullableString(64)),
  mail: Type.Optional(nullableString(254)),
  otherMails: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 250 })),
  jobTitle: Type.Optional(nullableString(128)),
  department: Type.Optional(nullableString(64)),
  companyName: Type.Optional(nullableString(64)),
  preferredLanguage: Type.Optional(nullableString(16)),
  mobilePhone: Type.Optional(nullableString(64)),
  officeLocation: Type.Optional(nullableString(128)),
  businessPhones: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1 })),
  userType: Type.Optional(Type.Union([Type.Literal('Member'), Type.Literal('Guest')])),
  accountEnabled: Type.Boolean(),
  mailNickname: Type.String({ minLength: 1, maxLength: 64 }),
  userPrincipalName: Type.String({ minLength: 3, maxLength: 113 }),
  passwordProfile: PasswordProfile,
  identities: Type.Optional(Type.Array(Identity, { maxItems: 20 })),
};

/** POST /users: Graph requires accountEnabled, displayName, mailNickname, passwordProfile, userPrincipalName. */
export const UserCreateBody = Type.Object(writable, { additionalProperties: false });
export type UserCreateBody = Static<typeof UserCreateBody>;

export const UserUpdateBody = Type.Partial(Type.Object(writable, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 });
export type UserUpdateBody = Static<typeof UserUpdateBody>;

/** Properties Graph computes; sending one in a body is a clear 400. */
export const readOnlyUserProperties = [
  'id',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'deletedDateTime',
  'signInActivity',
];

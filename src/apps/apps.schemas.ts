import { Type, type Static } from '@sinclair/typebox';

const uri = Type.String({ minLength: 1, maxLength: 256 });
const uris = Type.Array(uri, { maxItems: 256 });
const nullableUrl = Type.Union([Type.String({ maxLength: 2048 }), Type.Null()]);
const guid = Type.String({ maxLength: 64 });

const AppRole = Type.Object(
  {
    id: guid,
    value: Type.Optional(Type.Union([Type.String({ maxLength: 120 }), Type.Null()])),
    displayName: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    allowedMemberTypes: Type.Array(Type.Union([Type.Literal('User'), Type.Literal('Application')]), { minItems: 1, maxItems: 2 }),
    isEnabled: Type.Optional(Type.Boolean()),
    origin: Type.Optional(Type.Union([Type.Literal('Application'), Type.Null()])),
    '@odata.type': Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AppRole = Static<typeof AppRole>;

const fields = {
  '@odata.type': Type.Optional(Type.String()),
  displayName: Type.String({ minLength: 1, maxLength: 256 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  signInAudience: Type.Optional(Type.Literal('AzureADMyOrg')),
  web: Type.Optional(
    Type.Object(
      {
        redirectUris: Type.Optional(uris),
        homePageUrl: Type.Optional(nullableUrl),
        logoutUrl: Type.Optional(nullableUrl),
      },
      { additionalProperties: false },
    ),
  ),
  publicClient: Type.Optional(Type.Object({ redirectUris: Type.Optional(uris) }, { additionalProperties: false })),
  info: Type.Optional(Type.Object({ logoUrl: Type.Optional(nullableUrl) }, { additionalProperties: false })),
  isFallbackPublicClient: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  appRoles: Type.Optional(Type.Array(AppRole, { maxItems: 100 })),
};

/** POST /v1.0/applications. */
export const ApplicationCreateBody = Type.Object(fields, { additionalProperties: false });
export type ApplicationCreateBody = Static<typeof ApplicationCreateBody>;

/** PATCH /v1.0/applications/{id}: any of the same properties. */
export const ApplicationUpdateBody = Type.Partial(Type.Object(fields, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 });
export type ApplicationUpdateBody = Static<typeof ApplicationUpdateBody>;

export const readOnlyApplicationProperties = ['id', 'appId', 'createdDateTime', 'passwordCredentials', 'publisherDomain', 'keyCredentials'];

export const AddPasswordBody = Type.Object(
  {
    passwordCredential: Type.Optional(
      Type.Object(
        {
          '@odata.type': Type.Optional(Type.String()),
          displayName: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
          startDateTime: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
          endDateTime: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AddPasswordBody = Static<typeof AddPasswordBody>;

export const RemovePasswordBody = Type.Object({ keyId: guid }, { additionalProperties: false });
export type RemovePasswordBody = Static<typeof RemovePasswordBody>;

export const ServicePrincipalCreateBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String()),
    appId: guid,
    appRoleAssignmentRequired: Type.Optional(Type.Boolean()),
    accountEnabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ServicePrincipalCreateBody = Static<typeof ServicePrincipalCreateBody>;

export const ServicePrincipalUpdateBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String()),
    appRoleAssignmentRequired: Type.Optional(Type.Boolean()),
    accountEnabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ServicePrincipalUpdateBody = Static<typeof ServicePrincipalUpdateBody>;

export const readOnlyServicePrincipalProperties = ['id', 'appId', 'displayName', 'appRoles', 'servicePrincipalType', 'homepage', 'replyUrls', 'info'];

export const AppRoleAssignmentBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String()),
    principalId: guid,
    resourceId: guid,
    appRoleId: guid,
  },
  { additionalProperties: false },
);
export type AppRoleAssignmentBody = Static<typeof AppRoleAssignmentBody>;

export const readOnlyAssignmentProperties = ['id', 'createdDateTime', 'principalDisplayName', 'principalType', 'resourceDisplayName'];

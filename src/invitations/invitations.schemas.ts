import { Type, type Static } from '@sinclair/typebox';

const ref = Type.Object({ id: Type.String({ maxLength: 64 }), '@odata.type': Type.Optional(Type.String()) }, { additionalProperties: true });

const fields = {
  '@odata.type': Type.Optional(Type.String()),
  invitedUserEmailAddress: Type.String({ minLength: 1, maxLength: 320 }),
  inviteRedirectUrl: Type.String({ minLength: 1, maxLength: 2048 }),
  invitedUserDisplayName: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
  sendInvitationMessage: Type.Optional(Type.Boolean()),
  invitedUserMessageInfo: Type.Optional(
    Type.Object(
      {
        '@odata.type': Type.Optional(Type.String()),
        customizedMessageBody: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
        messageLanguage: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
        ccRecipients: Type.Optional(
          Type.Array(
            Type.Object(
              {
                '@odata.type': Type.Optional(Type.String()),
                emailAddress: Type.Object(
                  { address: Type.String({ maxLength: 320 }), name: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])) },
                  { additionalProperties: false },
                ),
              },
              { additionalProperties: false },
            ),
            { maxItems: 1 },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  invitedUserType: Type.Optional(Type.Union([Type.Literal('Guest'), Type.Literal('Member'), Type.Literal('guest'), Type.Literal('member')])),
  resetRedemption: Type.Optional(Type.Boolean()),
  invitedUser: Type.Optional(ref),
  invitedUserSponsors: Type.Optional(Type.Array(ref, { maxItems: 5 })),
};

/** POST /v1.0/invitations, Graph's invitation resource. */
export const InvitationBody = Type.Object(fields, { additionalProperties: false });
export type InvitationBody = Static<typeof InvitationBody>;

/** POST /v1.0/foyer/invitations: the same, plus groups to add the guest to and apps (service principal or app ids) to give access to, in the same transaction. */
export const FoyerInvitationBody = Type.Object(
  {
    ...fields,
    groups: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
    apps: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type FoyerInvitationBody = Static<typeof FoyerInvitationBody>;

export const readOnlyInvitationProperties = ['id', 'inviteRedeemUrl', 'status'];

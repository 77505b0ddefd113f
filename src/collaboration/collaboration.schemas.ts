import { Type, type Static } from '@sinclair/typebox';

const channelSettings = Type.Object(
  { allowCreateUpdateChannels: Type.Optional(Type.Boolean()), allowDeleteChannels: Type.Optional(Type.Boolean()) },
  { additionalProperties: true },
);
const member = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String({ maxLength: 100 })),
    roles: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 3 })),
    'user@odata.bind': Type.String({ minLength: 1, maxLength: 2048 }),
  },
  { additionalProperties: false },
);

export const TeamCreateBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String({ maxLength: 100 })),
    'template@odata.bind': Type.Optional(Type.String({ maxLength: 2048 })),
    displayName: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private'), Type.Literal('Public'), Type.Literal('Private')])),
    members: Type.Optional(Type.Array(member, { maxItems: 20 })),
    memberSettings: Type.Optional(channelSettings),
    guestSettings: Type.Optional(channelSettings),
    allowToAddGuests: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TeamCreateBody = Static<typeof TeamCreateBody>;

export const TeamEnableBody = Type.Partial(Type.Omit(TeamCreateBody, ['displayName', 'members']), { additionalProperties: false });

export const TeamUpdateBody = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    memberSettings: Type.Optional(channelSettings),
    guestSettings: Type.Optional(channelSettings),
    allowToAddGuests: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type TeamUpdateBody = Static<typeof TeamUpdateBody>;

/** conversationMember; Foyer also takes `email` for people outside the directory. */
export const MemberAddBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String({ maxLength: 100 })),
    roles: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 3 })),
    'user@odata.bind': Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    visibleHistoryStartDateTime: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type MemberAddBody = Static<typeof MemberAddBody>;

export const MemberUpdateBody = Type.Object(
  { '@odata.type': Type.Optional(Type.String({ maxLength: 100 })), roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 3 }) },
  { additionalProperties: false },
);

export const ChannelCreateBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String({ maxLength: 100 })),
    displayName: Type.String({ minLength: 1, maxLength: 50 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    membershipType: Type.Optional(Type.String({ maxLength: 20 })),
  },
  { additionalProperties: false },
);
export type ChannelCreateBody = Static<typeof ChannelCreateBody>;

const itemBody = Type.Object(
  { contentType: Type.Optional(Type.String({ maxLength: 10 })), content: Type.String({ minLength: 1, maxLength: 28_000 }) },
  { additionalProperties: false },
);

export const MessageBody = Type.Object(
  {
    body: itemBody,
    subject: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    mentions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.Integer({ minimum: 0, maximum: 100 }),
            mentionText: Type.Optional(Type.String({ maxLength: 256 })),
            mentioned: Type.Object(
              { user: Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: true }) },
              { additionalProperties: true },
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
    attachments: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.String({ maxLength: 64 }),
            contentType: Type.Optional(Type.String({ maxLength: 40 })),
            name: Type.Optional(Type.String({ maxLength: 256 })),
            contentUrl: Type.Optional(Type.String({ maxLength: 2048 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MessageBody = Static<typeof MessageBody>;

export const MessageUpdateBody = Type.Object({ body: itemBody }, { additionalProperties: true });
export type MessageUpdateBody = Static<typeof MessageUpdateBody>;

export const SettingsUpdateBody = Type.Object(
  {
    allowGuestAccessInTeams: Type.Optional(Type.Boolean()),
    allowGuestsToCreateUpdateChannels: Type.Optional(Type.Boolean()),
    sharingCapability: Type.Optional(
      Type.Union([
        Type.Literal('ExternalUserAndGuestSharing'),
        Type.Literal('ExternalUserSharingOnly'),
        Type.Literal('ExistingExternalUserSharingOnly'),
        Type.Literal('Disabled'),
      ]),
    ),
    anyoneLinkExpirationDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 730 })),
    guestAccessExpirationDays: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 730 }), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const MeetingCreateBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String({ maxLength: 100 })),
    subject: Type.String({ minLength: 1, maxLength: 255 }),
    startDateTime: Type.String({ minLength: 1, maxLength: 40 }),
    endDateTime: Type.String({ minLength: 1, maxLength: 40 }),
    /** Foyer: the meeting's agenda (plain text). */
    agenda: Type.Optional(Type.String({ maxLength: 10_000 })),
    /** Foyer: a team meeting, to which every person in the team is invited. */
    teamId: Type.Optional(Type.String({ maxLength: 64 })),
    participants: Type.Optional(
      Type.Object(
        {
          attendees: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  upn: Type.Optional(Type.String({ maxLength: 320 })),
                  role: Type.Optional(Type.String({ maxLength: 20 })),
                  identity: Type.Optional(
                    Type.Object(
                      { user: Type.Optional(Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: true })) },
                      { additionalProperties: true },
                    ),
                  ),
                },
                { additionalProperties: true },
              ),
              { maxItems: 250 },
            ),
          ),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MeetingCreateBody = Static<typeof MeetingCreateBody>;

export const SiteCreateBody = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    sharingCapability: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type SiteCreateBody = Static<typeof SiteCreateBody>;

export const SiteUpdateBody = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    sharingCapability: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SiteUpdateBody = Static<typeof SiteUpdateBody>;

export const SiteMemberBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
    userId: Type.Optional(Type.String({ maxLength: 64 })),
    role: Type.Optional(Type.Union([Type.Literal('owner'), Type.Literal('member'), Type.Literal('visitor')])),
  },
  { additionalProperties: false },
);
export type SiteMemberBody = Static<typeof SiteMemberBody>;

export const ListCreateBody = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 128 }),
    list: Type.Optional(Type.Object({ template: Type.String({ maxLength: 40 }) }, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

export const FolderCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    folder: Type.Object({}, { additionalProperties: true }),
    '@microsoft.graph.conflictBehavior': Type.Optional(Type.String({ maxLength: 20 })),
  },
  { additionalProperties: false },
);

export const InviteBody = Type.Object(
  {
    recipients: Type.Array(Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: true }), {
      minItems: 1,
      maxItems: 20,
    }),
    roles: Type.Optional(Type.Array(Type.Union([Type.Literal('read'), Type.Literal('write')]), { maxItems: 2 })),
    requireSignIn: Type.Optional(Type.Boolean()),
    sendInvitation: Type.Optional(Type.Boolean()),
    message: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type InviteBody = Static<typeof InviteBody>;

export const CreateLinkBody = Type.Object(
  {
    type: Type.Union([Type.Literal('view'), Type.Literal('edit')]),
    scope: Type.Optional(Type.Union([Type.Literal('anonymous'), Type.Literal('organization'), Type.Literal('users')])),
    expirationDateTime: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type CreateLinkBody = Static<typeof CreateLinkBody>;

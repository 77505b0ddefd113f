import { Type, type Static } from '@sinclair/typebox';

const refs = Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20 });

const fields = {
  '@odata.type': Type.Optional(Type.String()),
  displayName: Type.String({ minLength: 1, maxLength: 256 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  mailNickname: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
  mailEnabled: Type.Boolean(),
  securityEnabled: Type.Boolean(),
  groupTypes: Type.Optional(Type.Array(Type.Union([Type.Literal('Unified'), Type.Literal('DynamicMembership')]), { maxItems: 2 })),
  visibility: Type.Optional(Type.Union([Type.Literal('Public'), Type.Literal('Private'), Type.Literal('HiddenMembership'), Type.Null()])),
  'members@odata.bind': Type.Optional(refs),
  'owners@odata.bind': Type.Optional(refs),
};

export const GroupCreateBody = Type.Object(fields, { additionalProperties: false });
export type GroupCreateBody = Static<typeof GroupCreateBody>;

const { mailEnabled: _m, securityEnabled: _s, groupTypes: _g, ...updatable } = fields;
export const GroupUpdateBody = Type.Partial(Type.Object(updatable, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 });
export type GroupUpdateBody = Static<typeof GroupUpdateBody>;

export const RefBody = Type.Object({ '@odata.id': Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });
export type RefBody = Static<typeof RefBody>;

export const readOnlyGroupProperties = ['id', 'createdDateTime', 'deletedDateTime', 'mail'];

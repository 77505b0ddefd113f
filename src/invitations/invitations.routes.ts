import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RequestContext } from '../http/context.js';
import type { InvitationsService } from './invitations.service.js';
import type { CollaborationPolicyService } from './collaboration-policy.js';
import { FoyerInvitationBody, InvitationBody, readOnlyInvitationProperties } from './invitations.schemas.js';
import { formatValidationErrors } from '../http/validation.js';

const Id = Type.Object({ id: Type.String({ maxLength: 256 }) });
type P = { id: string };
const bodyErrors = (errors: Parameters<typeof formatValidationErrors>[0], dataVar: string) =>
  formatValidationErrors(errors, dataVar, readOnlyInvitationProperties);

const CollaborationPatch = Type.Object(
  {
    mode: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('allow'), Type.Literal('deny')])),
    domains: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export function registerInvitationRoutes(
  app: FastifyInstance,
  invitations: InvitationsService,
  policy: CollaborationPolicyService,
  ctx: (r: FastifyRequest) => RequestContext,
): void {
  const tags = ['invitations'];
  app.post(
    '/v1.0/invitations',
    { schema: { tags, summary: 'Invite a guest (Graph)', body: InvitationBody }, schemaErrorFormatter: bodyErrors },
    async (req, reply) => reply.status(201).send(await invitations.createGraphInvitation(ctx(req), req.body as FoyerInvitationBody)),
  );
  app.post(
    '/v1.0/foyer/invitations',
    { schema: { tags, summary: 'Invite a guest and add them to groups in one step', body: FoyerInvitationBody }, schemaErrorFormatter: bodyErrors },
    async (req, reply) => reply.status(201).send(await invitations.createFoyerInvitation(ctx(req), req.body as FoyerInvitationBody)),
  );
  app.get('/v1.0/foyer/invitations', { schema: { tags, summary: 'Invitations, newest first' } }, (req) => invitations.list(ctx(req)));
  app.get('/v1.0/foyer/invitations/:id', { schema: { tags, summary: 'One invitation', params: Id } }, (req) => invitations.get(ctx(req), (req.params as P).id));
  app.post('/v1.0/foyer/invitations/:id/resend', { schema: { tags, summary: 'New link and email', params: Id } }, (req) =>
    invitations.resend(ctx(req), (req.params as P).id),
  );
  app.post('/v1.0/foyer/invitations/:id/revoke', { schema: { tags, summary: 'Make the link useless', params: Id } }, (req) =>
    invitations.revoke(ctx(req), (req.params as P).id),
  );

  app.get('/v1.0/foyer/policies/collaboration', { schema: { tags: ['policies'], summary: 'Domains guests may come from' } }, (req) => policy.get(ctx(req)));
  app.patch(
    '/v1.0/foyer/policies/collaboration',
    {
      schema: { tags: ['policies'], summary: 'Set an allow list or a deny list of domains (one at a time)', body: CollaborationPatch },
      schemaErrorFormatter: (e, v) => formatValidationErrors(e, v),
    },
    async (req, reply) => {
      await policy.update(ctx(req), req.body as Static<typeof CollaborationPatch>);
      return reply.status(204).send();
    },
  );
}

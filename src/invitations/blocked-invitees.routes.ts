import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RequestContext } from '../http/context.js';
import type { BlockedInviteesService } from './blocked-invitees.service.js';

const Email = Type.Object({ email: Type.String({ maxLength: 320 }) });

/** `/v1.0/foyer/blockedInvitees`: addresses that refuse invitations from the organization. */
export function registerBlockedInviteeRoutes(app: FastifyInstance, blocked: BlockedInviteesService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['invitations'];
  app.get('/v1.0/foyer/blockedInvitees', { schema: { tags, summary: 'Addresses that blocked future invitations' } }, (req) => blocked.list(ctx(req)));
  app.delete(
    '/v1.0/foyer/blockedInvitees/:email',
    { schema: { tags, summary: 'Lift the block: the address can be invited again', params: Email } },
    async (req, reply) => {
      await blocked.remove(ctx(req), (req.params as { email: string }).email);
      return reply.status(204).send();
    },
  );
}

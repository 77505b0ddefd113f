import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RolesService } from './roles.service.js';
import type { RequestContext } from '../http/context.js';
import { RefBody } from './groups.schemas.js';
import { formatValidationErrors } from '../http/validation.js';

const Id = Type.Object({ id: Type.String({ maxLength: 256 }) });
const IdRef = Type.Object({ id: Type.String({ maxLength: 256 }), ref: Type.String({ maxLength: 256 }) });
type P = { id: string; ref: string };

export function registerRoleRoutes(app: FastifyInstance, roles: RolesService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['directory roles'];
  app.get('/v1.0/directoryRoles', { schema: { tags, summary: 'List directory roles' } }, (req) => roles.list(ctx(req)));
  app.get('/v1.0/directoryRoles/:id', { schema: { tags, summary: 'Get a directory role (id or roleTemplateId=...)', params: Id } }, (req) =>
    roles.get(ctx(req), (req.params as P).id),
  );
  app.get('/v1.0/directoryRoles/:id/members', { schema: { tags, summary: 'Members of a role', params: Id } }, (req) =>
    roles.listMembers(ctx(req), (req.params as P).id),
  );
  app.post(
    '/v1.0/directoryRoles/:id/members/$ref',
    { schema: { tags, summary: 'Assign a role', params: Id, body: RefBody }, schemaErrorFormatter: (e, v) => formatValidationErrors(e, v) },
    async (req, reply) => {
      await roles.addMember(ctx(req), (req.params as P).id, (req.body as RefBody)['@odata.id']);
      return reply.status(204).send();
    },
  );
  app.delete('/v1.0/directoryRoles/:id/members/:ref/$ref', { schema: { tags, summary: 'Remove a role assignment', params: IdRef } }, async (req, reply) => {
    await roles.removeMember(ctx(req), (req.params as P).id, (req.params as P).ref);
    return reply.status(204).send();
  });
}

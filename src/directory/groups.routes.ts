import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { GroupsService } from './groups.service.js';
import type { RequestContext } from '../http/context.js';
import { GroupCreateBody, GroupUpdateBody, RefBody, readOnlyGroupProperties } from './groups.schemas.js';
import { formatValidationErrors } from '../http/validation.js';
import { badRequest } from '../graph/errors.js';

const Id = Type.Object({ id: Type.String({ maxLength: 1024 }) });
const IdRef = Type.Object({ id: Type.String({ maxLength: 1024 }), ref: Type.String({ maxLength: 1024 }) });
const bodyErrors = (errors: Parameters<typeof formatValidationErrors>[0], dataVar: string) => formatValidationErrors(errors, dataVar, readOnlyGroupProperties);
type P = { id: string; ref: string };

export function registerGroupRoutes(app: FastifyInstance, groups: GroupsService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['groups'];
  app.get('/v1.0/groups', { schema: { tags, summary: 'List groups' } }, (req) => groups.list(ctx(req)));
  app.post('/v1.0/groups', { schema: { tags, summary: 'Create a group', body: GroupCreateBody }, schemaErrorFormatter: bodyErrors }, async (req, reply) =>
    reply.status(201).send(await groups.create(ctx(req), req.body as GroupCreateBody)),
  );
  app.get('/v1.0/groups/:id', { schema: { tags, summary: 'Get a group', params: Id } }, (req) => groups.get(ctx(req), (req.params as P).id));
  app.patch(
    '/v1.0/groups/:id',
    {
      schema: { tags, summary: 'Update a group, or add up to 20 members with members@odata.bind', params: Id, body: GroupUpdateBody },
      schemaErrorFormatter: bodyErrors,
    },
    async (req, reply) => {
      await groups.update(ctx(req), (req.params as P).id, req.body as GroupUpdateBody);
      return reply.status(204).send();
    },
  );
  app.delete('/v1.0/groups/:id', { schema: { tags, summary: 'Delete a group (to deleted items)', params: Id } }, async (req, reply) => {
    await groups.delete(ctx(req), (req.params as P).id);
    return reply.status(204).send();
  });

  for (const [segment, list, add, remove] of [
    ['members', groups.listMembers, groups.addMember, groups.removeMember],
    ['owners', groups.listOwners, groups.addOwner, groups.removeOwner],
  ] as const) {
    app.get(`/v1.0/groups/:id/${segment}`, { schema: { tags, summary: `List ${segment}`, params: Id } }, (req) => list(ctx(req), (req.params as P).id));
    app.post(
      `/v1.0/groups/:id/${segment}/$ref`,
      { schema: { tags, summary: `Add a ${segment.slice(0, -1)}`, params: Id, body: RefBody }, schemaErrorFormatter: bodyErrors },
      async (req, reply) => {
        await add(ctx(req), (req.params as P).id, (req.body as RefBody)['@odata.id']);
        return reply.status(204).send();
      },
    );
    app.delete(
      `/v1.0/groups/:id/${segment}/:ref/$ref`,
      { schema: { tags, summary: `Remove a ${segment.slice(0, -1)}`, params: IdRef } },
      async (req, reply) => {
        await remove(ctx(req), (req.params as P).id, (req.params as P).ref);
        return reply.status(204).send();
      },
    );
  }
  app.get('/v1.0/users/:id/memberOf', { schema: { tags: ['users'], summary: 'Groups and directory roles the user is a member of', params: Id } }, (req) =>
    groups.memberOf(ctx(req), (req.params as P).id),
  );
  app.get('/v1.0/me/memberOf', { schema: { tags: ['users'], summary: 'Groups and directory roles of the signed-in user' } }, (req) => {
    const c = ctx(req);
    // As GET /me: an API client has no signed-in user, so there is no "me" to look up (Graph answers 400).
    if (c.actor.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
    return groups.memberOf(c, c.actor.userId);
  });
}

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { UsersService } from './users.service.js';
import type { RequestContext } from '../http/context.js';
import type { FastifyRequest } from 'fastify';
import { UserCreateBody, UserUpdateBody, readOnlyUserProperties } from './users.schemas.js';
import { formatValidationErrors } from '../http/validation.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 1024 }) });
const bodyErrors = (errors: Parameters<typeof formatValidationErrors>[0], dataVar: string) => formatValidationErrors(errors, dataVar, readOnlyUserProperties);

export function registerUserRoutes(app: FastifyInstance, users: UsersService, ctx: (r: FastifyRequest) => RequestContext): void {
  app.get('/v1.0/users', { schema: { tags: ['users'], summary: 'List users' } }, (req) => users.list(ctx(req)));
  app.get('/v1.0/users/$count', { schema: { tags: ['users'], summary: 'Count users (ConsistencyLevel: eventual)' } }, async (req, reply) =>
    reply.type('text/plain; charset=utf-8').send(String(await users.count(ctx(req)))),
  );
  app.post(
    '/v1.0/users',
    { schema: { tags: ['users'], summary: 'Create a user', body: UserCreateBody }, schemaErrorFormatter: bodyErrors },
    async (req, reply) => reply.status(201).send(await users.create(ctx(req), req.body as UserCreateBody)),
  );
  app.get('/v1.0/me', { schema: { tags: ['users'], summary: 'The signed-in user' } }, (req) => users.me(ctx(req)));
  app.get('/v1.0/users/:id', { schema: { tags: ['users'], summary: 'Get a user by id or userPrincipalName', params: IdParams } }, (req) =>
    users.get(ctx(req), (req.params as { id: string }).id),
  );
  app.get('/v1.0/users/:id/sponsors', { schema: { tags: ['users'], summary: "A guest's sponsors (users and groups)", params: IdParams } }, (req) =>
    users.sponsors(ctx(req), (req.params as { id: string }).id),
  );
  app.patch(
    '/v1.0/users/:id',
    { schema: { tags: ['users'], summary: 'Update a user', params: IdParams, body: UserUpdateBody }, schemaErrorFormatter: bodyErrors },
    async (req, reply) => {
      await users.update(ctx(req), (req.params as { id: string }).id, req.body as UserUpdateBody);
      return reply.status(204).send();
    },
  );
  app.delete('/v1.0/users/:id', { schema: { tags: ['users'], summary: 'Delete a user (to deleted items)', params: IdParams } }, async (req, reply) => {
    await users.delete(ctx(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RequestContext } from '../http/context.js';
import { formatValidationErrors } from '../http/validation.js';
import type { ClientCreateBody, ClientsService, ClientUpdateBody } from './clients.service.js';

const Id = Type.Object({ id: Type.String({ maxLength: 1024 }) });
type P = { id: string };
const fields = {
  '@odata.type': Type.Optional(Type.String({ maxLength: 100 })),
  displayName: Type.String({ maxLength: 256 }),
  permissions: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 }),
};
const CreateBody = Type.Object(fields, { additionalProperties: false });
const UpdateBody = Type.Partial(Type.Object({ ...fields, accountEnabled: Type.Boolean() }, { additionalProperties: false }), {
  additionalProperties: false,
  minProperties: 1,
});
const readOnly = ['id', 'createdDateTime', 'lastSecretChangeDateTime', 'clientSecret'];
const bodyErrors = (errors: Parameters<typeof formatValidationErrors>[0], dataVar: string) => formatValidationErrors(errors, dataVar, readOnly);

/** `/v1.0/foyer/clients`: API clients and their secrets, for Global Administrators. */
export function registerClientRoutes(app: FastifyInstance, clients: ClientsService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['clients'];
  app.get('/v1.0/foyer/clients', { schema: { tags, summary: 'List API clients' } }, (req) => clients.list(ctx(req)));
  app.post(
    '/v1.0/foyer/clients',
    { schema: { tags, summary: 'Create an API client (its secret is answered once)', body: CreateBody }, schemaErrorFormatter: bodyErrors },
    async (req, reply) => reply.status(201).send(await clients.create(ctx(req), req.body as ClientCreateBody)),
  );
  app.get('/v1.0/foyer/clients/:id', { schema: { tags, summary: 'Get an API client', params: Id } }, (req) => clients.get(ctx(req), (req.params as P).id));
  app.patch(
    '/v1.0/foyer/clients/:id',
    {
      schema: { tags, summary: 'Rename, change permissions, disable (accountEnabled false) or enable an API client', params: Id, body: UpdateBody },
      schemaErrorFormatter: bodyErrors,
    },
    async (req, reply) => {
      await clients.update(ctx(req), (req.params as P).id, req.body as ClientUpdateBody);
      return reply.status(204).send();
    },
  );
  app.delete('/v1.0/foyer/clients/:id', { schema: { tags, summary: 'Delete an API client (permanently)', params: Id } }, async (req, reply) => {
    await clients.remove(ctx(req), (req.params as P).id);
    return reply.status(204).send();
  });
  app.post('/v1.0/foyer/clients/:id/rotateSecret', { schema: { tags, summary: 'Replace the secret (the new one is answered once)', params: Id } }, (req) =>
    clients.rotateSecret(ctx(req), (req.params as P).id),
  );
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { DeletedItemsService } from './deleted-items.service.js';
import type { RequestContext } from '../http/context.js';

const Id = Type.Object({ id: Type.String({ maxLength: 1024 }) });
type P = { id: string };

export function registerDeletedItemsRoutes(app: FastifyInstance, deleted: DeletedItemsService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['deleted items'];
  // One route for both: a GUID is an item, `microsoft.graph.user|group` is a typed list.
  app.get(
    '/v1.0/directory/deletedItems/:id',
    { schema: { tags, summary: 'A deleted item, or the deleted users or groups (microsoft.graph.user / microsoft.graph.group)', params: Id } },
    (req) => {
      const { id } = req.params as P;
      return id.toLowerCase().startsWith('microsoft.graph.') ? deleted.list(ctx(req), id) : deleted.get(ctx(req), id);
    },
  );
  app.post('/v1.0/directory/deletedItems/:id/restore', { schema: { tags, summary: 'Restore a deleted user or group', params: Id } }, (req) =>
    deleted.restore(ctx(req), (req.params as P).id),
  );
  app.delete('/v1.0/directory/deletedItems/:id', { schema: { tags, summary: 'Delete permanently', params: Id } }, async (req, reply) => {
    await deleted.purge(ctx(req), (req.params as P).id);
    return reply.status(204).send();
  });
}

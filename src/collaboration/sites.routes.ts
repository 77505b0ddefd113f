import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../http/context.js';
import type { SitesService } from './sites.service.js';
import type { AccessService } from './my-access.service.js';
import { ListCreateBody, SiteCreateBody, SiteMemberBody, SiteUpdateBody } from './collaboration.schemas.js';

type P = { id: string; userId: string };
const tags = ['sites'];

export function registerSiteRoutes(
  app: FastifyInstance,
  deps: { sites: SitesService; access: AccessService },
  ctx: (r: FastifyRequest) => RequestContext,
): void {
  const { sites, access } = deps;
  const p = (req: FastifyRequest) => req.params as P;
  app.get('/v1.0/sites', { schema: { tags, summary: 'Sites you can reach (?search=)' } }, (req) => sites.list(ctx(req)));
  app.post('/v1.0/sites', { schema: { tags, summary: 'Create a site (Foyer)', body: SiteCreateBody } }, async (req, reply) =>
    reply.status(201).send(await sites.create(ctx(req), req.body as never)),
  );
  app.get('/v1.0/sites/:id', { schema: { tags, summary: 'Get a site' } }, (req) => sites.get(ctx(req), p(req).id));
  app.patch('/v1.0/sites/:id', { schema: { tags, summary: 'Change a site (name, sharing level)', body: SiteUpdateBody } }, (req) =>
    sites.update(ctx(req), p(req).id, req.body as never),
  );
  app.get('/v1.0/sites/:id/drives', { schema: { tags, summary: "A site's document libraries" } }, (req) => sites.drives(ctx(req), p(req).id));
  app.get('/v1.0/sites/:id/drive', { schema: { tags, summary: "A site's default document library" } }, (req) => sites.defaultDrive(ctx(req), p(req).id));
  app.post('/v1.0/sites/:id/lists', { schema: { tags, summary: 'Add a document library', body: ListCreateBody } }, async (req, reply) =>
    reply.status(201).send(await sites.createLibrary(ctx(req), p(req).id, req.body as never)),
  );
  app.get('/v1.0/groups/:id/sites/root', { schema: { tags, summary: "A team's site" } }, (req) => sites.groupSite(ctx(req), p(req).id));
  app.get('/v1.0/foyer/sites/:id/members', { schema: { tags, summary: 'Site members' } }, (req) => sites.members(ctx(req), p(req).id));
  app.post('/v1.0/foyer/sites/:id/members', { schema: { tags, summary: 'Add a member or share with an email', body: SiteMemberBody } }, async (req, reply) =>
    reply.status(201).send(await sites.addMember(ctx(req), p(req).id, req.body as never)),
  );
  app.delete('/v1.0/foyer/sites/:id/members/:userId', { schema: { tags, summary: 'Remove a member' } }, async (req, reply) => {
    await sites.removeMember(ctx(req), p(req).id, p(req).userId);
    return reply.status(204).send();
  });
  app.post('/v1.0/foyer/sites/:id/members/:userId/renew', { schema: { tags, summary: "Renew a guest's access" } }, (req) =>
    sites.renew(ctx(req), p(req).id, p(req).userId),
  );
  app.get('/v1.0/me/foyer/access', { schema: { tags, summary: 'Teams, sites and files you can reach, and how' } }, (req) => access.mine(ctx(req)));
  app.get('/v1.0/foyer/users/:id/access', { schema: { tags, summary: "A person's teams, sites and files, and how (administrators)" } }, (req) =>
    access.ofUser(ctx(req), p(req).id),
  );
}

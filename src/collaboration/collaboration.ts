import path from 'node:path';
import { tmpdir } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import type { AuthService } from '../auth/auth.service.js';
import type { Config } from '../config.js';
import { createLiveHub } from './live-hub.js';
import { createCollaborationSettingsService } from './settings.js';
import { createTeamsService } from './teams.service.js';
import { registerTeamRoutes } from './teams.routes.js';
import { createLocalStorage, type FileStorage } from './storage.js';
import { createFilesService } from './files.service.js';
import { registerFileRoutes } from './files.routes.js';
import { createMeetingsService } from './meetings.service.js';
import { registerMeetingRoutes } from './meetings.routes.js';
import { createSitesService } from './sites.service.js';
import { registerSiteRoutes } from './sites.routes.js';
import { createAccessService } from './my-access.service.js';
import { registerCollaborationPages } from './pages.routes.js';

export type { FileStorage };

/** Paths whose success may end someone's access (removal, deletion, sign-out, settings): open streams are checked right after. */
const accessChanging = /^\/v1\.0\/(users|groups|directory|invitations|foyer\/(sites|settings|invitations)|sites)\b|^\/(my\/leave|signout)\b/;

/** Teams, chat, meetings, files and sites: services, API routes and the guest pages. */
export async function registerCollaboration(
  app: FastifyInstance,
  deps: {
    db: Kysely<Database>;
    engine: Engine;
    clock: Clock;
    secret: string;
    config: Partial<Pick<Config, 'dataDir' | 'uploadMaxBytes' | 'mailFrom' | 'baseUrl'>>;
    invitations: InvitationsService;
    auth: AuthService;
    storage?: FileStorage;
    tenantId: string;
    secureCookies: boolean;
  },
  ctx: (r: FastifyRequest) => RequestContext,
) {
  const { db, clock } = deps;
  const hub = createLiveHub();
  const storage = deps.storage ?? createLocalStorage(path.join(deps.config.dataDir ?? path.join(tmpdir(), 'foyer-data'), 'files'));
  const settings = createCollaborationSettingsService({ db, clock });
  const teams = createTeamsService({ db, clock, invitations: deps.invitations, hub });
  const files = createFilesService({ db, clock, storage, secret: deps.secret, invitations: deps.invitations, teams });
  const meetings = createMeetingsService({ db, clock, hub, mailFrom: deps.config.mailFrom ?? 'no-reply@foyer.local' });
  const sites = createSitesService({ db, clock, invitations: deps.invitations, files });
  const access = createAccessService({ db, clock });

  registerTeamRoutes(app, { teams, settings, hub }, ctx);
  await registerFileRoutes(app, { files, teams }, ctx, { uploadMaxBytes: deps.config.uploadMaxBytes ?? 100 * 1024 * 1024 });
  registerMeetingRoutes(app, { meetings, teams, hub }, ctx);
  registerSiteRoutes(app, { sites, access }, ctx);
  registerCollaborationPages(app, { db, auth: deps.auth, teams, files, meetings, sites, hub, tenantId: deps.tenantId, baseUrl: deps.config.baseUrl ?? null });

  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'GET' && reply.statusCode < 400 && accessChanging.test(req.url)) await hub.revalidate();
  });
  app.addHook('onClose', async () => hub.closeAll());

  return { hub, myAccess: access.forPage };
}

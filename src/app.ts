import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { isDatabaseUnavailable } from './db/errors.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from './graph/errors.js';
import type { Clock } from './clock.js';
import { createAuthService } from './auth/auth.service.js';
import { registerAuthRoutes } from './auth/auth.routes.js';
import { createClientsService } from './auth/clients.service.js';
import { registerClientRoutes } from './auth/clients.routes.js';
import { registerAuthentication } from './http/authenticate.js';
import { registerFormOriginCheck } from './http/form-origin.js';
import { handleError, handleFrameworkError, errorEnvelope } from './http/errors.js';
import { contextOf } from './http/request-context.js';
import { createUsersService } from './directory/users.service.js';
import { registerUserRoutes } from './directory/users.routes.js';
import { createGroupsService } from './directory/groups.service.js';
import { registerGroupRoutes } from './directory/groups.routes.js';
import { createDeletedItemsService } from './directory/deleted-items.service.js';
import { registerDeletedItemsRoutes } from './directory/deleted-items.routes.js';
import { createRolesService } from './directory/roles.service.js';
import { registerRoleRoutes } from './directory/roles.routes.js';
import { createAuditService } from './audit/audit-log.service.js';
import { registerAuditRoutes } from './audit/audit.routes.js';
import { createPoliciesService } from './tenancy/policies.service.js';
import { registerPolicyRoutes } from './tenancy/policies.routes.js';
import { createTransact } from './db/group-commit.js';
import { createInvitationsService } from './invitations/invitations.service.js';
import { createCollaborationPolicyService } from './invitations/collaboration-policy.js';
import { registerInvitationRoutes } from './invitations/invitations.routes.js';
import { registerOutboxRoutes } from './mail/outbox.routes.js';
import { invitationMailContent } from './invitations/invitation-mail.js';
import { createBulkInvitationsService } from './invitations/bulk-invitations.service.js';
import { registerBulkInvitationRoutes } from './invitations/bulk-invitations.routes.js';
import { createRedemptionService } from './invitations/redemption.service.js';
import { registerRedemptionRoutes } from './invitations/redemption.routes.js';
import { createBlockedInviteesService } from './invitations/blocked-invitees.service.js';
import { registerBlockedInviteeRoutes } from './invitations/blocked-invitees.routes.js';
import { createOneTimeCodes } from './auth/one-time-codes.js';
import { createApplicationsService } from './apps/applications.service.js';
import { createAssignmentsService } from './apps/assignments.service.js';
import { registerAppRoutes } from './apps/apps.routes.js';
import { createOidc } from './apps/oidc-provider.js';
import { registerOidcRoutes } from './apps/oidc.routes.js';
import { registerCollaboration, type FileStorage } from './collaboration/collaboration.js';
import { registerGuestExportRoutes } from './directory/guests-export.routes.js';
import { registerAdminCenter } from './web/admin-center.routes.js';

/** The settings bulk invitations read, in the API and in the job worker. */
export type BulkConfigKeys = 'bulkMaxRows' | 'bulkMaxBytes' | 'mailRatePerSecond';

/** The bulk invitations service for a process (its routes, or its job handler in the worker). */
export function bulkInvitationsFor(
  database: DatabaseHandle,
  clock: Clock,
  config: Pick<Config, 'secret' | 'inviteTtlDays' | 'mailFrom' | BulkConfigKeys> & { bulkSliceMs?: number },
) {
  return createBulkInvitationsService({
    db: database.db,
    clock,
    secret: config.secret,
    settings: {
      bulkMaxRows: config.bulkMaxRows,
      mailRatePerSecond: config.mailRatePerSecond,
      inviteTtlDays: config.inviteTtlDays,
      mailFrom: config.mailFrom,
      sliceMs: config.bulkSliceMs,
    },
  });
}

/**
 * FOYER_TRUST_PROXY as Fastify applies it. Fastify ignores a bare hop count (a client that reaches
 * the port directly could claim to be the last hop); Foyer takes the count as the operator's word
 * that every connection comes through that many proxies, as it takes `true`.
 */
function trustProxyOption(trust: Config['trustProxy']) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

export interface AppDeps {
  config: Pick<
    Config,
    'baseUrl' | 'trustProxy' | 'secret' | 'bodyLimit' | 'logLevel' | 'production' | 'inviteTtlDays' | 'invitesPerMinute' | 'mailFrom' | BulkConfigKeys
  > &
    Partial<Pick<Config, 'dataDir' | 'uploadMaxBytes' | 'smtpUrl'>>;
  /** Where team and site files are kept; a folder under the data directory when not given. */
  storage?: FileStorage;
  database: DatabaseHandle;
  clock: Clock;
  /** The organization this process serves. */
  tenantId: string;
  /** How often the OpenID Connect provider looks for rotated signing keys (ms, default a minute). */
  oidcKeyCheckIntervalMs?: number;
  logger?: boolean;
  /** Called with every route as it is added (the random-input test lists what a caller can reach without a token). */
  onRoute?: (route: RouteOptions) => void;
}

/** Assembles the HTTP application; no side effects beyond the returned instance. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database, clock } = deps;
  const app = Fastify({
    logger: deps.logger === false ? false : { level: config.logLevel },
    bodyLimit: config.bodyLimit,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: trustProxyOption(config.trustProxy),
    routerOptions: { maxParamLength: 1024 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    frameworkErrors: handleFrameworkError,
  });
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    const segment = req.url.split('?')[0];
    reply.status(404).send(errorEnvelope(req, 'Request_ResourceNotFound', `Resource not found for the segment '${segment}'.`));
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('request-id', req.id);
    const clientRequestId = req.headers['client-request-id'];
    reply.header('client-request-id', typeof clientRequestId === 'string' ? clientRequestId : req.id);
    reply.header('x-content-type-options', 'nosniff');
  });

  await app.register(cookie);
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Foyer API', description: 'Microsoft Graph-compatible guest directory API', version: '1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  const auth = createAuthService({ db: database.db, clock, secret: config.secret });
  registerFormOriginCheck(app, config.baseUrl);
  registerAuthentication(app, auth);
  const ctx = (req: Parameters<typeof contextOf>[0]) => contextOf(req, config.baseUrl);
  const serviceDeps = { db: database.db, engine: database.engine, clock, secret: config.secret };

  const secureCookies = config.production || (config.baseUrl?.startsWith('https:') ?? false);
  registerAuthRoutes(app, auth, { tenantId: deps.tenantId, secureCookies });
  registerClientRoutes(app, createClientsService(serviceDeps), ctx);
  const users = createUsersService(serviceDeps);
  registerUserRoutes(app, users, ctx);
  registerGuestExportRoutes(app, users, ctx);
  const groups = createGroupsService({ ...serviceDeps, users });
  registerGroupRoutes(app, groups, ctx);
  registerDeletedItemsRoutes(app, createDeletedItemsService(serviceDeps), ctx);
  registerRoleRoutes(app, createRolesService(serviceDeps), ctx);
  registerAuditRoutes(app, createAuditService(serviceDeps), ctx);
  registerPolicyRoutes(app, createPoliciesService(serviceDeps), ctx);
  const appAssignments = createAssignmentsService({ ...serviceDeps, users });
  registerAppRoutes(app, { applications: createApplicationsService(serviceDeps), assignments: appAssignments }, ctx);
  const invitations = createInvitationsService({
    ...serviceDeps,
    transact: createTransact(database.db, database.engine),
    apps: appAssignments,
    settings: { inviteTtlDays: config.inviteTtlDays, invitesPerMinute: config.invitesPerMinute, mailFrom: config.mailFrom },
  });
  registerInvitationRoutes(app, invitations, createCollaborationPolicyService(serviceDeps), ctx);
  const collaboration = await registerCollaboration(
    app,
    { ...serviceDeps, config, invitations, auth, storage: deps.storage, tenantId: deps.tenantId, secureCookies },
    ctx,
  );
  registerBulkInvitationRoutes(app, bulkInvitationsFor(database, clock, config), ctx, { maxBytes: config.bulkMaxBytes });
  // Without SMTP_URL mail stays in the outbox; with it, nothing that was delivered is readable through the API.
  if (!config.smtpUrl) registerOutboxRoutes(app, database.db, config.secret, ctx, invitationMailContent(database.db, config.secret));
  registerBlockedInviteeRoutes(app, createBlockedInviteesService(serviceDeps), ctx);
  const redemption = createRedemptionService({
    db: database.db,
    clock,
    secret: config.secret,
    mailFrom: config.mailFrom,
    codes: createOneTimeCodes(config.secret, clock),
    auth,
  });
  registerRedemptionRoutes(app, {
    redemption,
    auth,
    db: database.db,
    tenantId: deps.tenantId,
    secureCookies,
    myApps: appAssignments.myApps,
    myCollaboration: collaboration.myAccess,
  });
  const oidc = createOidc({
    db: database.db,
    clock,
    secret: config.secret,
    tenantId: deps.tenantId,
    auth,
    secureCookies,
    keyCheckIntervalMs: deps.oidcKeyCheckIntervalMs,
  });
  await registerOidcRoutes(app, { oidc, auth, redemption, db: database.db, clock, tenantId: deps.tenantId, baseUrl: config.baseUrl, secureCookies });

  app.get('/healthz', { config: { anonymous: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  // Ready while the database answers; a load balancer stops sending requests while it does not, and
  // resumes by itself (the pool opens new connections once PostgreSQL is back).
  app.get('/readyz', { config: { anonymous: true }, schema: { hide: true } }, async (req, reply) => {
    try {
      await sql`select 1`.execute(database.db);
      return { status: 'ok', database: database.engine };
    } catch (error) {
      if (isDatabaseUnavailable(error)) req.log.warn({ databaseError: (error as Error).message }, 'not ready: database unavailable');
      else req.log.error({ err: error }, 'not ready: database check failed');
      return reply.status(503).header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS)).send({ status: 'unavailable', database: database.engine });
    }
  });
  // Without SMTP_URL mail stays in the outbox, and the admin center shows its page.
  await registerAdminCenter(app, { db: database.db, tenantId: deps.tenantId, outboxActive: !config.smtpUrl, inviteTtlDays: config.inviteTtlDays });
  app.get('/openapi.json', { config: { anonymous: true }, schema: { hide: true } }, async () => app.swagger());
  return app;
}

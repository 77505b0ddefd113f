import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import type { EntityDefinition } from '../graph/entity.js';
import { badRequest, GraphError, notFound } from '../graph/errors.js';
import { parseSelect } from '../graph/odata-query.js';
import { listCollection } from '../graph/list.js';
import { recordAudit, diffProperties, type AuditTarget } from '../audit/audit.service.js';
import { requireAccess, type Actor } from '../auth/permissions.js';
import { hashToken, randomToken } from '../auth/secrets.js';
import { isUniqueViolation } from '../db/errors.js';
import { isGuid, newId } from '../ids.js';
import {
  DEFAULT_ACCESS_ROLE_ID,
  findApplication,
  revokeClientTokens,
  secretsOf,
  type ApplicationRow,
  type SecretRow,
  type ServicePrincipalRow,
} from './apps.repository.js';
import type {
  AddPasswordBody,
  AppRole,
  ApplicationCreateBody,
  ApplicationUpdateBody,
  RemovePasswordBody,
  ServicePrincipalCreateBody,
  ServicePrincipalUpdateBody,
} from './apps.schemas.js';

/** Secrets last two years unless the caller asks for less, as in Entra. */
const DEFAULT_SECRET_LIFETIME_MS = 2 * 365 * 86_400_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:']);

/** Every property is returned by default, as Graph does for these types. */
const applicationPropertyNames = [
  'id',
  'appId',
  'displayName',
  'description',
  'createdDateTime',
  'signInAudience',
  'isFallbackPublicClient',
  'web',
  'publicClient',
  'spa',
  'info',
  'appRoles',
  'passwordCredentials',
  'keyCredentials',
  'requiredResourceAccess',
] as const;

export const applicationEntity: EntityDefinition = {
  type: 'application',
  entitySet: 'applications',
  properties: applicationPropertyNames,
  defaultProperties: applicationPropertyNames,
  filterable: {
    id: { column: 'id', type: 'guid' },
    appId: { column: 'app_id', type: 'guid' },
    displayName: { column: 'display_name_lower', type: 'string', caseInsensitive: true, startsWith: true },
    createdDateTime: { column: 'created_at', type: 'datetime' },
  },
  sortable: { displayName: 'display_name_lower', createdDateTime: 'created_at' },
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: true,
};

/** Every property is returned by default, as Graph does for these types. */
const servicePrincipalPropertyNames = [
  'id',
  'appId',
  'displayName',
  'appDisplayName',
  'appDescription',
  'accountEnabled',
  'appRoleAssignmentRequired',
  'appRoles',
  'homepage',
  'info',
  'replyUrls',
  'servicePrincipalNames',
  'servicePrincipalType',
  'signInAudience',
  'appOwnerOrganizationId',
  'tags',
] as const;

export const servicePrincipalEntity: EntityDefinition = {
  type: 'servicePrincipal',
  entitySet: 'servicePrincipals',
  properties: servicePrincipalPropertyNames,
  defaultProperties: servicePrincipalPropertyNames,
  filterable: {
    id: { column: 'id', type: 'guid' },
    appId: { column: 'app_id', type: 'guid' },
    displayName: { column: 'display_name_lower', type: 'string', caseInsensitive: true, startsWith: true },
    accountEnabled: { column: 'account_enabled', type: 'boolean' },
    appRoleAssignmentRequired: { column: 'app_role_assignment_required', type: 'boolean' },
  },
  sortable: { displayName: 'display_name_lower' },
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: true,
};

const parseList = (json: string) => JSON.parse(json) as string[];
const rolesOf = (app: Pick<ApplicationRow, 'app_roles'>) => JSON.parse(app.app_roles) as Required<Omit<AppRole, '@odata.type'>>[];

/** A Graph passwordCredential; `secretText` only in the answer to addPassword. */
const shapeSecret = (s: SecretRow, secretText: string | null = null) => ({
  customKeyIdentifier: null,
  displayName: s.display_name,
  endDateTime: s.end_at,
  hint: s.hint,
  keyId: s.key_id,
  secretText,
  startDateTime: s.start_at,
});

const applicationProperties: Record<string, (r: ApplicationRow, secrets: SecretRow[]) => unknown> = {
  id: (r) => r.id,
  appId: (r) => r.app_id,
  displayName: (r) => r.display_name,
  description: (r) => r.description,
  createdDateTime: (r) => r.created_at,
  signInAudience: () => 'AzureADMyOrg',
  isFallbackPublicClient: (r) => Boolean(r.is_fallback_public_client),
  web: (r) => ({
    redirectUris: parseList(r.web_redirect_uris),
    homePageUrl: r.web_home_page_url,
    logoutUrl: r.web_logout_url,
    implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
  }),
  publicClient: (r) => ({ redirectUris: parseList(r.public_client_redirect_uris) }),
  spa: () => ({ redirectUris: [] }),
  info: (r) => ({ logoUrl: r.logo_url, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null }),
  appRoles: (r) => rolesOf(r),
  passwordCredentials: (r, secrets) => secrets.filter((s) => s.application_id === r.id).map((s) => shapeSecret(s)),
  keyCredentials: () => [],
  requiredResourceAccess: () => [],
};

export function toGraphApplication(row: ApplicationRow, secrets: SecretRow[], select: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!select.includes('id')) out.id = row.id;
  for (const p of select) out[p] = applicationProperties[p]!(row, secrets);
  return out;
}

type SpView = ServicePrincipalRow &
  Pick<ApplicationRow, 'display_name' | 'description' | 'app_roles' | 'web_home_page_url' | 'logo_url' | 'web_redirect_uris' | 'public_client_redirect_uris'>;

const servicePrincipalProperties: Record<string, (r: SpView) => unknown> = {
  id: (r) => r.id,
  appId: (r) => r.app_id,
  displayName: (r) => r.display_name,
  appDisplayName: (r) => r.display_name,
  appDescription: (r) => r.description,
  accountEnabled: (r) => Boolean(r.account_enabled),
  appRoleAssignmentRequired: (r) => Boolean(r.app_role_assignment_required),
  appRoles: (r) => rolesOf(r),
  homepage: (r) => r.web_home_page_url,
  info: (r) => ({ logoUrl: r.logo_url, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null }),
  replyUrls: (r) => [...parseList(r.web_redirect_uris), ...parseList(r.public_client_redirect_uris)],
  servicePrincipalNames: (r) => [r.app_id],
  servicePrincipalType: () => 'Application',
  signInAudience: () => 'AzureADMyOrg',
  appOwnerOrganizationId: (r) => r.tenant_id,
  tags: () => [],
};

export function toGraphServicePrincipal(row: SpView, select: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!select.includes('id')) out.id = row.id;
  for (const p of select) out[p] = servicePrincipalProperties[p]!(row);
  return out;
}

/** Entra's redirect URI rules: web ones https (http only on the local machine); public clients may use their own scheme. */
function checkRedirectUri(value: string, kind: 'web' | 'publicClient'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`The redirect URI '${value}' is not an absolute URI.`);
  }
  if (value.includes('#')) throw badRequest(`The redirect URI '${value}' must not contain a fragment.`);
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (kind === 'web') {
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
      throw badRequest(`The redirect URI '${value}' must use https (http is allowed only for localhost).`);
  } else if (url.protocol === 'http:' && !loopback) {
    throw badRequest(`The public client redirect URI '${value}' may use http only with a loopback address (localhost, 127.0.0.1).`);
  } else if (url.protocol === 'https:' && loopback) {
    throw badRequest(`The public client redirect URI '${value}' must use http for a loopback address.`);
  } else if (FORBIDDEN_SCHEMES.has(url.protocol)) {
    throw badRequest(`The redirect URI '${value}' uses a scheme that is not allowed.`);
  }
  return value;
}

function checkUris(values: string[] | undefined, kind: 'web' | 'publicClient'): string[] | undefined {
  if (values === undefined) return undefined;
  const unique = [...new Set(values)];
  return unique.map((v) => checkRedirectUri(v, kind));
}

/** Homepage, logout and logo addresses are shown as links: http(s) only, never a script. */
function checkWebUrl(value: string | null | undefined, property: string): string | null | undefined {
  if (value === undefined || value === null || value === '') return value === '' ? null : value;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.toString();
  } catch {
    // answered below
  }
  throw badRequest(`Invalid value for '${property}': '${value}' is not an absolute http or https URL.`);
}

/** Validates app roles as Graph does; an enabled role must be disabled before it is removed. */
function checkAppRoles(next: AppRole[] | undefined, previous: ReturnType<typeof rolesOf>): ReturnType<typeof rolesOf> | undefined {
  if (next === undefined) return undefined;
  const ids = new Set<string>();
  const values = new Set<string>();
  const roles = next.map((r) => {
    if (!isGuid(r.id)) throw badRequest(`Invalid value for 'appRoles.id': '${r.id}' is not a GUID.`);
    const id = r.id.toLowerCase();
    if (id === DEFAULT_ACCESS_ROLE_ID) throw badRequest(`The app role id '${r.id}' is reserved for Default Access.`);
    if (ids.has(id)) throw badRequest(`The app role id '${r.id}' is used more than once.`);
    ids.add(id);
    const value = r.value ?? null;
    if (value !== null) {
      if (!/^[^\s.][^\s]*$/.test(value)) throw badRequest(`The app role value '${value}' must not contain spaces or start with a dot.`);
      if (values.has(value.toLowerCase())) throw badRequest(`The app role value '${value}' is used more than once.`);
      values.add(value.toLowerCase());
    }
    return {
      id,
      value,
      displayName: r.displayName,
      description: r.description ?? null,
      allowedMemberTypes: [...new Set(r.allowedMemberTypes)],
      isEnabled: r.isEnabled ?? true,
      origin: 'Application' as const,
    };
  });
  for (const old of previous) {
    if (old.isEnabled && !ids.has(old.id))
      throw badRequest(`Cannot delete or update an enabled app role. Disable the app role '${old.value ?? old.id}' (isEnabled false) before removing it.`);
  }
  return roles;
}

function parseDate(value: string | null | undefined, property: string): Date | null {
  if (value === undefined || value === null) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw badRequest(`Invalid value for '${property}': '${value}' is not a date and time.`);
  return d;
}

/** Applications (app registrations) and their service principals (enterprise apps). */
export function createApplicationsService(deps: { db: Kysely<Database>; engine: Engine; clock: Clock; secret: string }) {
  const { db, clock } = deps;

  const appTarget = (a: { id: string; display_name: string }, modified?: AuditTarget['modifiedProperties']): AuditTarget => ({
    id: a.id,
    displayName: a.display_name,
    type: 'Application',
    modifiedProperties: modified,
  });

  async function application(actor: Actor, id: string): Promise<ApplicationRow> {
    if (!isGuid(id)) throw notFound(id);
    const row = await findApplication(db, actor.tenantId, id.toLowerCase());
    if (!row) throw notFound(id);
    return row;
  }

  const spView = (tenantId: string) =>
    db
      .selectFrom('service_principals as sp')
      .innerJoin('applications as a', 'a.id', 'sp.application_id')
      .selectAll('sp')
      .select([
        'a.display_name',
        'a.display_name_lower',
        'a.description',
        'a.app_roles',
        'a.web_home_page_url',
        'a.logo_url',
        'a.web_redirect_uris',
        'a.public_client_redirect_uris',
      ])
      .where('sp.tenant_id', '=', tenantId);

  async function servicePrincipal(actor: Actor, id: string): Promise<SpView> {
    if (!isGuid(id)) throw notFound(id);
    const row = await spView(actor.tenantId).where('sp.id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(id);
    return row;
  }

  const entityContext = (ctx: RequestContext, set: string, select: string[], explicit: boolean) =>
    `${ctx.baseUrl}/v1.0/$metadata#${set}${explicit ? `(${select.join(',')})` : ''}/$entity`;

  /** The client-facing shape of application properties in a create or update body, validated. */
  function applicationChanges(body: ApplicationUpdateBody, before: ApplicationRow | null): Partial<ApplicationRow> {
    const changes: Partial<ApplicationRow> = {};
    if (body.displayName !== undefined) {
      if (!body.displayName.trim()) throw badRequest("Invalid value for 'displayName': it must not be empty.");
      Object.assign(changes, { display_name: body.displayName.trim(), display_name_lower: body.displayName.trim().toLowerCase() });
    }
    if (body.description !== undefined) changes.description = body.description;
    const web = checkUris(body.web?.redirectUris, 'web');
    if (web) changes.web_redirect_uris = JSON.stringify(web);
    const pub = checkUris(body.publicClient?.redirectUris, 'publicClient');
    if (pub) changes.public_client_redirect_uris = JSON.stringify(pub);
    const home = checkWebUrl(body.web?.homePageUrl, 'web.homePageUrl');
    if (home !== undefined) changes.web_home_page_url = home;
    const logout = checkWebUrl(body.web?.logoutUrl, 'web.logoutUrl');
    if (logout !== undefined) changes.web_logout_url = logout;
    const logo = checkWebUrl(body.info?.logoUrl, 'info.logoUrl');
    if (logo !== undefined) changes.logo_url = logo;
    if (body.isFallbackPublicClient !== undefined) changes.is_fallback_public_client = body.isFallbackPublicClient ? 1 : 0;
    const roles = checkAppRoles(body.appRoles, before ? rolesOf(before) : []);
    if (roles) changes.app_roles = JSON.stringify(roles);
    return changes;
  }

  return {
    async listApplications(ctx: RequestContext) {
      requireAccess(ctx.actor, 'apps.read');
      const base = db.selectFrom('applications').selectAll().where('tenant_id', '=', ctx.actor.tenantId);
      return listCollection<ApplicationRow>({
        db,
        secret: deps.secret,
        ctx,
        entity: applicationEntity,
        base,
        shape: async (rows, select) => {
          const secrets = select.includes('passwordCredentials')
            ? await secretsOf(
                db,
                rows.map((r) => r.id),
              )
            : [];
          return rows.map((r) => toGraphApplication(r, secrets, select));
        },
      });
    },

    async getApplication(ctx: RequestContext, id: string) {
      requireAccess(ctx.actor, 'apps.read');
      const row = await application(ctx.actor, id);
      const { select, explicitSelect } = parseSelect(applicationEntity, ctx.query.$select as string | undefined);
      return {
        '@odata.context': entityContext(ctx, 'applications', select, explicitSelect),
        ...toGraphApplication(row, await secretsOf(db, [row.id]), select),
      };
    },

    async createApplication(ctx: RequestContext, body: ApplicationCreateBody) {
      requireAccess(ctx.actor, 'apps.write');
      const now = clock.now().toISOString();
      const row: ApplicationRow = {
        tenant_id: ctx.actor.tenantId,
        id: newId(),
        app_id: newId(),
        display_name: '',
        display_name_lower: '',
        description: null,
        web_redirect_uris: '[]',
        web_home_page_url: null,
        web_logout_url: null,
        public_client_redirect_uris: '[]',
        is_fallback_public_client: 0,
        logo_url: null,
        app_roles: '[]',
        created_at: now,
        ...applicationChanges(body, null),
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('applications').values(row).execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Add application',
            category: 'ApplicationManagement',
            operationType: 'Add',
            targets: [appTarget(row, diffProperties({}, { displayName: row.display_name, appId: row.app_id }))],
          },
          ctx.correlationId,
          now,
        );
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#applications/$entity`, ...toGraphApplication(row, [], applicationEntity.defaultProperties) };
    },

    async updateApplication(ctx: RequestContext, id: string, body: ApplicationUpdateBody): Promise<void> {
      requireAccess(ctx.actor, 'apps.write');
      const before = await application(ctx.actor, id);
      const changes = applicationChanges(body, before);
      const now = clock.now().toISOString();
      const { '@odata.type': _t, ...props } = body;
      await db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length) await trx.updateTable('applications').set(changes).where('id', '=', before.id).execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update application',
            category: 'ApplicationManagement',
            operationType: 'Update',
            targets: [appTarget(before, diffProperties(toGraphApplication(before, [], Object.keys(props)), props))],
          },
          ctx.correlationId,
          now,
        );
      });
    },

    /** Permanent, as nothing else refers to an application: its service principal, assignments, secrets and tokens go too. */
    async deleteApplication(ctx: RequestContext, id: string): Promise<void> {
      requireAccess(ctx.actor, 'apps.write');
      const row = await application(ctx.actor, id);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('applications').where('id', '=', row.id).execute();
        await revokeClientTokens(trx, row.app_id);
        await recordAudit(
          trx,
          ctx.actor,
          { activity: 'Delete application', category: 'ApplicationManagement', operationType: 'Delete', targets: [appTarget(row)] },
          ctx.correlationId,
          now,
        );
      });
    },

    /** `addPassword`: a new client secret, answered once with `secretText`; only its hash is kept. */
    async addPassword(ctx: RequestContext, id: string, body: AddPasswordBody) {
      requireAccess(ctx.actor, 'apps.write');
      const row = await application(ctx.actor, id);
      const now = clock.now();
      const start = parseDate(body.passwordCredential?.startDateTime, 'passwordCredential.startDateTime') ?? now;
      const end = parseDate(body.passwordCredential?.endDateTime, 'passwordCredential.endDateTime') ?? new Date(start.getTime() + DEFAULT_SECRET_LIFETIME_MS);
      if (end <= start || end <= now) throw badRequest("Invalid value for 'passwordCredential.endDateTime': it must be in the future and after startDateTime.");
      // Entra-like secrets: 40 characters, the first three shown as the hint.
      const secretText = randomToken(30);
      const secret: SecretRow = {
        tenant_id: row.tenant_id,
        application_id: row.id,
        key_id: newId(),
        display_name: body.passwordCredential?.displayName ?? null,
        hint: secretText.slice(0, 3),
        secret_hash: hashToken(secretText),
        start_at: start.toISOString(),
        end_at: end.toISOString(),
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('application_secrets').values(secret).execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update application – Certificates and secrets management ',
            category: 'ApplicationManagement',
            operationType: 'Update',
            targets: [
              appTarget(row, [
                { displayName: 'KeyDescription', oldValue: null, newValue: JSON.stringify(`[KeyIdentifier=${secret.key_id},KeyType=Password]`) },
              ]),
            ],
          },
          ctx.correlationId,
          now.toISOString(),
        );
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#microsoft.graph.passwordCredential`, ...shapeSecret(secret, secretText) };
    },

    async removePassword(ctx: RequestContext, id: string, body: RemovePasswordBody): Promise<void> {
      requireAccess(ctx.actor, 'apps.write');
      const row = await application(ctx.actor, id);
      if (!isGuid(body.keyId)) throw notFound(body.keyId);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const r = await trx
          .deleteFrom('application_secrets')
          .where('application_id', '=', row.id)
          .where('key_id', '=', body.keyId.toLowerCase())
          .executeTakeFirst();
        if (Number(r.numDeletedRows) === 0) throw badRequest(`No password credential with keyId '${body.keyId}' exists on the application.`);
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update application – Certificates and secrets management ',
            category: 'ApplicationManagement',
            operationType: 'Update',
            targets: [
              appTarget(row, [{ displayName: 'KeyDescription', oldValue: JSON.stringify(`[KeyIdentifier=${body.keyId},KeyType=Password]`), newValue: null }]),
            ],
          },
          ctx.correlationId,
          now,
        );
      });
    },

    async listServicePrincipals(ctx: RequestContext) {
      requireAccess(ctx.actor, 'apps.read');
      return listCollection<SpView>({
        db,
        secret: deps.secret,
        ctx,
        entity: servicePrincipalEntity,
        base: spView(ctx.actor.tenantId),
        shape: (rows, select) => rows.map((r) => toGraphServicePrincipal(r, select)),
      });
    },

    async getServicePrincipal(ctx: RequestContext, id: string) {
      requireAccess(ctx.actor, 'apps.read');
      const row = await servicePrincipal(ctx.actor, id);
      const { select, explicitSelect } = parseSelect(servicePrincipalEntity, ctx.query.$select as string | undefined);
      return { '@odata.context': entityContext(ctx, 'servicePrincipals', select, explicitSelect), ...toGraphServicePrincipal(row, select) };
    },

    async createServicePrincipal(ctx: RequestContext, body: ServicePrincipalCreateBody) {
      requireAccess(ctx.actor, 'apps.write');
      if (!isGuid(body.appId)) throw badRequest(`Invalid value for 'appId': '${body.appId}' is not a GUID.`);
      const app = await db
        .selectFrom('applications')
        .selectAll()
        .where('tenant_id', '=', ctx.actor.tenantId)
        .where('app_id', '=', body.appId.toLowerCase())
        .executeTakeFirst();
      if (!app) throw badRequest(`The appId '${body.appId}' of the service principal does not reference a valid application object.`);
      const now = clock.now().toISOString();
      const row: ServicePrincipalRow = {
        tenant_id: ctx.actor.tenantId,
        id: newId(),
        application_id: app.id,
        app_id: app.app_id,
        app_role_assignment_required: body.appRoleAssignmentRequired ? 1 : 0,
        account_enabled: body.accountEnabled === false ? 0 : 1,
        created_at: now,
      };
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('service_principals').values(row).execute();
          await recordAudit(
            trx,
            ctx.actor,
            {
              activity: 'Add service principal',
              category: 'ApplicationManagement',
              operationType: 'Add',
              targets: [
                appTarget(
                  { id: row.id, display_name: app.display_name },
                  diffProperties({}, { appId: row.app_id, appRoleAssignmentRequired: Boolean(row.app_role_assignment_required) }),
                ),
              ],
            },
            ctx.correlationId,
            now,
          );
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new GraphError('Request_MultipleObjectsWithSameKeyValue', `A service principal for the application '${body.appId}' already exists.`);
        throw error;
      }
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#servicePrincipals/$entity`,
        ...toGraphServicePrincipal(
          { ...row, ...app, id: row.id, tenant_id: row.tenant_id, created_at: row.created_at },
          servicePrincipalEntity.defaultProperties,
        ),
      };
    },

    async updateServicePrincipal(ctx: RequestContext, id: string, body: ServicePrincipalUpdateBody): Promise<void> {
      requireAccess(ctx.actor, 'apps.write');
      const before = await servicePrincipal(ctx.actor, id);
      const changes: Partial<ServicePrincipalRow> = {};
      if (body.appRoleAssignmentRequired !== undefined) changes.app_role_assignment_required = body.appRoleAssignmentRequired ? 1 : 0;
      if (body.accountEnabled !== undefined) changes.account_enabled = body.accountEnabled ? 1 : 0;
      const now = clock.now().toISOString();
      const { '@odata.type': _t, ...props } = body;
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('service_principals').set(changes).where('id', '=', before.id).execute();
        // A disabled application signs nobody in, and what it was given stops working now.
        if (body.accountEnabled === false) await revokeClientTokens(trx, before.app_id);
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update service principal',
            category: 'ApplicationManagement',
            operationType: 'Update',
            targets: [appTarget(before, diffProperties(toGraphServicePrincipal(before, Object.keys(props)), props))],
          },
          ctx.correlationId,
          now,
        );
      });
    },

    async deleteServicePrincipal(ctx: RequestContext, id: string): Promise<void> {
      requireAccess(ctx.actor, 'apps.write');
      const row = await servicePrincipal(ctx.actor, id);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('service_principals').where('id', '=', row.id).execute();
        await revokeClientTokens(trx, row.app_id);
        await recordAudit(
          trx,
          ctx.actor,
          { activity: 'Remove service principal', category: 'ApplicationManagement', operationType: 'Delete', targets: [appTarget(row)] },
          ctx.correlationId,
          now,
        );
      });
    },
  };
}
export type ApplicationsService = ReturnType<typeof createApplicationsService>;

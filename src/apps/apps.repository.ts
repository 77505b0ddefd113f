import type { Kysely, Selectable } from 'kysely';
import type { ApplicationsTable, AppRoleAssignmentsTable, ApplicationSecretsTable, Database, ServicePrincipalsTable } from '../db/schema.js';

export type ApplicationRow = Selectable<ApplicationsTable>;
export type ServicePrincipalRow = Selectable<ServicePrincipalsTable>;
export type AssignmentRow = Selectable<AppRoleAssignmentsTable>;
export type SecretRow = Selectable<ApplicationSecretsTable>;

/** "Default Access": the role an assignment names when the application defines none. */
export const DEFAULT_ACCESS_ROLE_ID = '00000000-0000-0000-0000-000000000000';

export async function findApplication(db: Kysely<Database>, tenantId: string, id: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

export async function findApplicationByAppId(db: Kysely<Database>, appId: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').selectAll().where('app_id', '=', appId).executeTakeFirst();
}

export async function findServicePrincipalByAppId(db: Kysely<Database>, appId: string): Promise<ServicePrincipalRow | undefined> {
  return db.selectFrom('service_principals').selectAll().where('app_id', '=', appId).executeTakeFirst();
}

export async function secretsOf(db: Kysely<Database>, applicationIds: string[]): Promise<SecretRow[]> {
  if (applicationIds.length === 0) return [];
  return db.selectFrom('application_secrets').selectAll().where('application_id', 'in', applicationIds).orderBy('start_at').orderBy('key_id').execute();
}

/** Groups (live) the user is a member of: group assignments reach their members. */
const liveGroupsOf = (db: Kysely<Database>, userId: string) =>
  db
    .selectFrom('group_memberships as m')
    .innerJoin('groups as g', 'g.id', 'm.group_id')
    .select('m.group_id')
    .where('m.user_id', '=', userId)
    .where('m.relation', '=', 'member')
    .where('g.deleted_at', 'is', null);

/** The app role ids a user holds on a service principal, directly or through a group. */
export async function assignedRoleIds(db: Kysely<Database>, servicePrincipalId: string, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('app_role_assignments')
    .select('app_role_id')
    .where('resource_id', '=', servicePrincipalId)
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('group_id', 'in', liveGroupsOf(db, userId))]))
    .execute();
  return [...new Set(rows.map((r) => r.app_role_id))];
}

/** Service principals the user is assigned to (directly or through a group), with their applications. */
export async function assignedServicePrincipals(db: Kysely<Database>, tenantId: string, userId: string) {
  return db
    .selectFrom('service_principals as sp')
    .innerJoin('applications as a', 'a.id', 'sp.application_id')
    .select([
      'sp.id as sp_id',
      'sp.account_enabled',
      'a.app_id',
      'a.display_name',
      'a.display_name_lower',
      'a.web_home_page_url',
      'a.logo_url',
      'a.description',
    ])
    .where('sp.tenant_id', '=', tenantId)
    .where('sp.id', 'in', (eb) =>
      eb
        .selectFrom('app_role_assignments')
        .select('resource_id')
        .where((w) => w.or([w('user_id', '=', userId), w('group_id', 'in', liveGroupsOf(db, userId))])),
    )
    .orderBy('a.display_name_lower')
    .orderBy('sp.id')
    .execute();
}

/** Ends every OIDC session, code, token and grant of an application (it was deleted or disabled). */
export async function revokeClientTokens(db: Kysely<Database>, appId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('client_id', '=', appId).execute();
}

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { directoryRoles } from '../auth/permissions.js';
import { hashPassword, randomToken } from '../auth/secrets.js';
import { recordAudit, systemActor } from '../audit/audit.service.js';
import { insertUser } from '../directory/users.repository.js';
import { buildUserRow } from '../directory/user-row.js';
import { newId } from '../ids.js';
import { ensureTenant, type Tenant } from './tenants.service.js';

export interface AdminInput {
  email: string;
  password?: string | null;
  displayName?: string;
}

/**
 * Creates a Global Administrator. A member's userPrincipalName lives in the organization's
 * domain: an address elsewhere becomes the mail, and its local part the UPN.
 * Returns the password when one was generated, to be shown once.
 */
export async function createAdministrator(
  db: Kysely<Database>,
  tenant: Tenant,
  input: AdminInput,
  clock: Clock,
): Promise<{ userId: string; userPrincipalName: string; generatedPassword: string | null }> {
  const email = input.email.trim().toLowerCase();
  const local = email.split('@')[0]!.replace(/[^a-z0-9._-]/g, '') || 'admin';
  const upn = email.endsWith(`@${tenant.initialDomain}`) ? email : `${local}@${tenant.initialDomain}`;
  const generatedPassword = input.password ? null : `${randomToken(15)}-Aa1`;
  const password = input.password ?? generatedPassword!;
  const now = clock.now().toISOString();
  const id = newId();
  const displayName = input.displayName ?? 'Administrator';
  await db.transaction().execute(async (trx) => {
    await insertUser(
      trx,
      buildUserRow({
        tenantId: tenant.id,
        id,
        displayName,
        userPrincipalName: upn,
        mailNickname: local,
        userType: 'Member',
        createdAt: now,
        mail: email,
        identities: [{ signInType: 'userPrincipalName', issuer: tenant.initialDomain, issuerAssignedId: upn }],
        passwordHash: await hashPassword(password),
      }),
    );
    await trx
      .insertInto('role_assignments')
      .values({ tenant_id: tenant.id, user_id: id, role_template_id: directoryRoles.globalAdministrator.id, created_at: now })
      .execute();
    const actor = systemActor(tenant.id);
    const target = { id, displayName, type: 'User' as const, userPrincipalName: upn };
    await recordAudit(trx, actor, { activity: 'Add user', category: 'UserManagement', operationType: 'Add', targets: [target] }, `bootstrap-${id}`, now);
    await recordAudit(
      trx,
      actor,
      {
        activity: 'Add member to role',
        category: 'RoleManagement',
        operationType: 'Assign',
        targets: [target, { id: directoryRoles.globalAdministrator.id, displayName: 'Global Administrator', type: 'Role' }],
      },
      `bootstrap-${id}`,
      now,
    );
  });
  return { userId: id, userPrincipalName: upn, generatedPassword };
}

/** First start: the organization and, when it has none, its first Global Administrator. */
export async function bootstrapOrganization(
  db: Kysely<Database>,
  org: { name: string; domain: string; adminEmail: string | null; adminPassword: string | null },
  clock: Clock,
): Promise<{ tenant: Tenant; admin: Awaited<ReturnType<typeof createAdministrator>> | null }> {
  const { tenant, created } = await ensureTenant(db, org, clock);
  if (!created) return { tenant, admin: null };
  const admin = await createAdministrator(db, tenant, { email: org.adminEmail ?? `admin@${org.domain}`, password: org.adminPassword }, clock);
  return { tenant, admin };
}

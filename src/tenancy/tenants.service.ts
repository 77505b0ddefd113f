import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { guestAccessLevels } from '../auth/permissions.js';
import { newId } from '../ids.js';

/** authorizationPolicy as Graph names it; stored as JSON on the tenant. */
export interface AuthorizationPolicy {
  allowInvitesFrom: 'none' | 'adminsAndGuestInviters' | 'adminsGuestInvitersAndAllMembers' | 'everyone';
  guestUserRoleId: string;
  allowedToSignUpEmailBasedSubscriptions?: boolean;
}

export const defaultAuthorizationPolicy: AuthorizationPolicy = {
  allowInvitesFrom: 'everyone',
  guestUserRoleId: guestAccessLevels.limited,
};

export interface Tenant {
  id: string;
  displayName: string;
  initialDomain: string;
  authorizationPolicy: AuthorizationPolicy;
  /** Domains guests may come from (see invitations/collaboration-policy.ts). */
  collaborationPolicy: { mode: 'none' | 'allow' | 'deny'; domains: string[] };
}

export async function findTenant(db: Kysely<Database>, id: string): Promise<Tenant | undefined> {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  return (
    row && {
      id: row.id,
      displayName: row.display_name,
      initialDomain: row.initial_domain,
      authorizationPolicy: JSON.parse(row.authorization_policy),
      collaborationPolicy: JSON.parse(row.collaboration_policy),
    }
  );
}

/** The organization this deployment serves: the one whose initial domain is configured, created on first start. */
export async function ensureTenant(db: Kysely<Database>, org: { name: string; domain: string }, clock: Clock): Promise<{ tenant: Tenant; created: boolean }> {
  const existing = await db.selectFrom('tenants').select('id').where('initial_domain', '=', org.domain).executeTakeFirst();
  if (existing) return { tenant: (await findTenant(db, existing.id))!, created: false };
  const id = newId();
  const inserted = await db
    .insertInto('tenants')
    .values({
      id,
      display_name: org.name,
      initial_domain: org.domain,
      created_at: clock.now().toISOString(),
      authorization_policy: JSON.stringify(defaultAuthorizationPolicy),
      collaboration_policy: JSON.stringify({ mode: 'none', domains: [] }),
    })
    // Several processes may start at once on one PostgreSQL: the unique domain picks one winner.
    .onConflict((oc) => oc.column('initial_domain').doNothing())
    .executeTakeFirst();
  const winner = await db.selectFrom('tenants').select('id').where('initial_domain', '=', org.domain).executeTakeFirstOrThrow();
  return { tenant: (await findTenant(db, winner.id))!, created: Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 && winner.id === id };
}

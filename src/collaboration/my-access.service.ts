import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { can, directoryRoles, hasRole, type Actor } from '../auth/permissions.js';

const guestAdministratorRoles = [
  directoryRoles.globalAdministrator.id,
  directoryRoles.userAdministrator.id,
  directoryRoles.guestInviter.id,
  directoryRoles.helpdeskAdministrator.id,
];
import { isGuid } from '../ids.js';
import { guestCaller } from './access.js';

export interface AccessEntry {
  kind: 'team' | 'site' | 'file';
  id: string;
  displayName: string;
  /** How the person got in: a team's member or owner, a site's member, or a file shared with them. */
  source: string;
  role: string;
  expirationDateTime: string | null;
  href: string;
}

/** Which teams, sites and shared files a person can reach, and where that access came from. */
export function createAccessService(deps: { db: Kysely<Database>; clock: Clock }) {
  const { db, clock } = deps;

  async function entriesFor(tenantId: string, userId: string): Promise<AccessEntry[]> {
    const now = clock.now().toISOString();
    const out: AccessEntry[] = [];
    const teams = await db
      .selectFrom('teams as t')
      .innerJoin('groups as g', 'g.id', 't.id')
      .innerJoin('group_memberships as m', 'm.group_id', 't.id')
      .select(['t.id', 'g.display_name', 'm.relation'])
      .where('m.user_id', '=', userId)
      .where('g.deleted_at', 'is', null)
      .orderBy('g.display_name_lower')
      .execute();
    const owners = new Set(teams.filter((t) => t.relation === 'owner').map((t) => t.id));
    const source = await db.selectFrom('users').select(['source', 'user_type']).where('id', '=', userId).executeTakeFirst();
    for (const t of teams.filter((x) => x.relation === 'member'))
      out.push({
        kind: 'team',
        id: t.id,
        displayName: t.display_name,
        source: 'Team membership',
        role: owners.has(t.id) ? 'owner' : source?.user_type === 'Guest' ? 'guest' : 'member',
        expirationDateTime: null,
        href: `/teams/${t.id}`,
      });
    const sites = await db
      .selectFrom('site_members as s')
      .innerJoin('sites', 'sites.id', 's.site_id')
      .select(['sites.id', 'sites.display_name', 's.role', 's.expires_at'])
      .where('s.user_id', '=', userId)
      .orderBy('sites.display_name_lower')
      .execute();
    for (const s of sites)
      if (!s.expires_at || s.expires_at > now)
        out.push({
          kind: 'site',
          id: s.id,
          displayName: s.display_name,
          source: 'Site membership',
          role: s.role,
          expirationDateTime: s.expires_at,
          href: `/sites/${s.id}`,
        });
    const files = await db
      .selectFrom('drive_item_grants as g')
      .innerJoin('drive_items as i', 'i.id', 'g.item_id')
      .innerJoin('drives as d', 'd.id', 'i.drive_id')
      .innerJoin('sites', 'sites.id', 'd.site_id')
      .select(['i.id', 'i.name', 'i.drive_id', 'g.role', 'g.expires_at', 'sites.display_name as site_name'])
      .where('g.user_id', '=', userId)
      .execute();
    for (const f of files)
      if (!f.expires_at || f.expires_at > now)
        out.push({
          kind: 'file',
          id: f.id,
          displayName: f.name,
          source: `Shared from ${f.site_name}`,
          role: f.role,
          expirationDateTime: f.expires_at,
          href: `/files/${f.drive_id}?item=${f.id}`,
        });
    return out;
  }

  return {
    /** GET /me/foyer/access */
    async mine(ctx: RequestContext) {
      if (ctx.actor.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
      return { value: await entriesFor(ctx.actor.tenantId, ctx.actor.userId) };
    },
    /** GET /foyer/users/{id}/access: for administrators (guest details). */
    async ofUser(ctx: RequestContext, userId: string) {
      // Administrators who look after guests (the guest details panel); a plain member may not list where others have access.
      const actor = ctx.actor;
      const allowed = actor.kind === 'app' ? can(actor, 'users.read') : !guestCaller(actor) && guestAdministratorRoles.some((role) => hasRole(actor, role));
      if (!allowed) throw forbidden();
      const user = isGuid(userId)
        ? await db.selectFrom('users').select('id').where('tenant_id', '=', ctx.actor.tenantId).where('id', '=', userId.toLowerCase()).executeTakeFirst()
        : undefined;
      if (!user) throw notFound(userId);
      return { value: await entriesFor(ctx.actor.tenantId, user.id) };
    },
    /** For the My access page. */
    forPage: (actor: Actor) => (actor.kind === 'user' ? entriesFor(actor.tenantId, actor.userId) : Promise.resolve([])),
  };
}
export type AccessService = ReturnType<typeof createAccessService>;

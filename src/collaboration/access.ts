import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Actor } from '../auth/permissions.js';
import { can, isGuest } from '../auth/permissions.js';
import { forbidden, notFound } from '../graph/errors.js';
import { isGuid } from '../ids.js';
import { readCollaborationSettings } from './settings.js';
import type { TeamsTable, SitesTable } from './tables.js';
import type { GroupRow } from '../directory/groups.model.js';

export type TeamRow = Selectable<TeamsTable> & { group: GroupRow };
export type SiteRow = Selectable<SitesTable>;
/** A person's place in a team: owners and members of the group; a guest member is `guest`. */
export type TeamRole = 'owner' | 'member' | 'guest';

/** Team features, as Graph's team resource has them, plus the group setting allowToAddGuests. */
export interface TeamSettings {
  memberSettings: { allowCreateUpdateChannels: boolean; allowDeleteChannels: boolean };
  guestSettings: { allowCreateUpdateChannels: boolean; allowDeleteChannels: boolean };
  allowToAddGuests: boolean;
}
export const defaultTeamSettings = (guestsCreateChannels: boolean): TeamSettings => ({
  memberSettings: { allowCreateUpdateChannels: true, allowDeleteChannels: true },
  guestSettings: { allowCreateUpdateChannels: guestsCreateChannels, allowDeleteChannels: false },
  allowToAddGuests: true,
});
export const teamSettingsOf = (t: TeamRow): TeamSettings => ({ ...defaultTeamSettings(false), ...(JSON.parse(t.settings) as Partial<TeamSettings>) });

export async function findTeam(db: Kysely<Database>, tenantId: string, id: string): Promise<TeamRow | undefined> {
  if (!isGuid(id)) return undefined;
  const team = await db.selectFrom('teams').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  if (!team) return undefined;
  const group = await db.selectFrom('groups').selectAll().where('id', '=', team.id).where('deleted_at', 'is', null).executeTakeFirst();
  return group ? { ...team, group } : undefined;
}

/** The person's role in the team, or null; a deleted or disabled person has none. */
export async function teamRoleOf(db: Kysely<Database>, teamId: string, userId: string): Promise<TeamRole | null> {
  const rows = await db
    .selectFrom('group_memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.relation', 'u.user_type'])
    .where('m.group_id', '=', teamId)
    .where('m.user_id', '=', userId)
    .where('u.deleted_at', 'is', null)
    .where('u.account_enabled', '=', 1)
    .execute();
  if (rows.length === 0) return null;
  if (rows[0]!.user_type === 'Guest') return rows.some((r) => r.relation === 'member') ? 'guest' : null;
  return rows.some((r) => r.relation === 'owner') ? 'owner' : 'member';
}

/** What the caller is in the team: a role for people in it, 'reader'/'manager' for administrators and API clients. */
export type TeamAccess = { kind: 'person'; role: TeamRole; userId: string } | { kind: 'admin'; manage: boolean };

/**
 * The team and the caller's access to it. People outside the team and guests (when the
 * organization turned guest access in Teams off) get 404, so a team's existence stays hidden.
 */
export async function teamAccess(db: Kysely<Database>, actor: Actor, teamId: string): Promise<{ team: TeamRow; access: TeamAccess }> {
  // An API client without a Teams permission is refused as Graph refuses it (403), whether or not the team exists.
  if (actor.kind === 'app' && !can(actor, 'teams.read')) throw forbidden();
  const team = await findTeam(db, actor.tenantId, teamId);
  if (!team) throw notFound(teamId);
  if (actor.kind === 'user') {
    const role = await teamRoleOf(db, team.id, actor.userId);
    if (role === 'guest' && !(await readCollaborationSettings(db, actor.tenantId)).allowGuestAccessInTeams)
      throw forbidden('Guest access in Teams is turned off for this organization.');
    if (role) return { team, access: { kind: 'person', role, userId: actor.userId } };
  }
  if (!isGuest(actor) && can(actor, 'teams.read')) return { team, access: { kind: 'admin', manage: can(actor, 'teams.manage') } };
  throw notFound(teamId);
}

export const isOwnerOrAdmin = (a: TeamAccess) => (a.kind === 'admin' ? a.manage : a.role === 'owner');

/** A site's access level for the caller: manage (owners), write (members), read (visitors, guests of a team). */
export type SiteAccess = 'manage' | 'write' | 'read';

/** The caller's access to a site, or null. Team sites follow the team; other sites their member list (with guest expiry). */
export async function siteAccessOf(db: Kysely<Database>, actor: Actor, site: SiteRow, now: string): Promise<SiteAccess | null> {
  // API clients reach sites only through Sites permissions: without one the answer is 403, not a hidden site's 404.
  if (actor.kind === 'app' && !can(actor, 'sites.read')) throw forbidden();
  if (actor.kind === 'user') {
    if (site.group_id) {
      const role = await teamRoleOf(db, site.group_id, actor.userId);
      if (role === 'guest' && !(await readCollaborationSettings(db, actor.tenantId)).allowGuestAccessInTeams) return null;
      if (role) return role === 'owner' ? 'manage' : role === 'member' ? 'write' : 'read';
    } else {
      const m = await db
        .selectFrom('site_members as s')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select(['s.role', 's.expires_at'])
        .where('s.site_id', '=', site.id)
        .where('s.user_id', '=', actor.userId)
        .where('u.deleted_at', 'is', null)
        .executeTakeFirst();
      if (m && (!m.expires_at || m.expires_at > now)) return m.role === 'owner' ? 'manage' : m.role === 'member' ? 'write' : 'read';
    }
  }
  if (!isGuest(actor) && can(actor, 'sites.write')) return 'manage';
  if (!isGuest(actor) && can(actor, 'sites.read')) return 'read';
  return null;
}

/** Whether the caller is a guest (a plain boolean: `isGuest` narrows, and its negation would rule out every person). */
export const guestCaller = (actor: Actor): boolean => isGuest(actor);

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { can, requireAccess } from '../auth/permissions.js';
import { isGuid } from '../ids.js';
import { guestCaller } from './access.js';
import { findLiveUsers } from '../directory/users.repository.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import { siteAccessOf, type SiteRow } from './access.js';
import { readCollaborationSettings, sharingLevels, stricter, type SharingLevel } from './settings.js';
import { insertDrive, insertSiteWithDrive } from './drives.repository.js';
import type { FilesService } from './files.service.js';
import type { SiteCreateBody, SiteMemberBody, SiteUpdateBody } from './collaboration.schemas.js';

function levelOf(value: string | undefined): SharingLevel | undefined {
  if (value === undefined) return undefined;
  if (!(sharingLevels as readonly string[]).includes(value)) throw badRequest(`sharingCapability must be one of ${sharingLevels.join(', ')}.`);
  return value as SharingLevel;
}

export function createSitesService(deps: { db: Kysely<Database>; clock: Clock; invitations: InvitationsService; files: FilesService }) {
  const { db, clock, files } = deps;

  async function open(ctx: RequestContext, id: string) {
    const site = isGuid(id)
      ? await db.selectFrom('sites').selectAll().where('tenant_id', '=', ctx.actor.tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!site) throw notFound(id);
    const access = await siteAccessOf(db, ctx.actor, site, clock.now().toISOString());
    if (!access) throw notFound(id);
    return { site, access };
  }

  async function shape(ctx: RequestContext, s: SiteRow) {
    return {
      id: s.id,
      name: s.display_name,
      displayName: s.display_name,
      description: s.description,
      createdDateTime: s.created_at,
      webUrl: `${ctx.baseUrl}/sites/${s.id}`,
      sharingCapability: s.sharing_capability,
      effectiveSharingCapability: await files.effectiveLevel(s),
      groupId: s.group_id,
    };
  }

  const requireOwner = (access: string) => {
    if (access !== 'manage') throw forbidden('Only the site’s owners can do this.');
  };

  async function memberList(site: SiteRow) {
    if (site.group_id) {
      const rows = await db
        .selectFrom('group_memberships as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.display_name', 'u.mail', 'u.user_type', 'm.relation', 'm.created_at'])
        .where('m.group_id', '=', site.group_id)
        .where('u.deleted_at', 'is', null)
        .execute();
      const owners = new Set(rows.filter((r) => r.relation === 'owner').map((r) => r.id));
      return rows
        .filter((r) => r.relation === 'member')
        .map((r) => ({
          id: r.id,
          displayName: r.display_name,
          email: r.mail,
          userType: r.user_type,
          role: owners.has(r.id) ? 'owner' : 'member',
          expirationDateTime: null,
          source: 'team',
        }));
    }
    const rows = await db
      .selectFrom('site_members as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['u.id', 'u.display_name', 'u.mail', 'u.user_type', 's.role', 's.expires_at'])
      .where('s.site_id', '=', site.id)
      .where('u.deleted_at', 'is', null)
      .orderBy('u.display_name_lower')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      displayName: r.display_name,
      email: r.mail,
      userType: r.user_type,
      role: r.role,
      expirationDateTime: r.expires_at,
      source: 'site',
    }));
  }

  return {
    open,

    /** Creates a site with a "Documents" library; the creator owns it. */
    async create(ctx: RequestContext, body: SiteCreateBody) {
      const actor = ctx.actor;
      if (guestCaller(actor)) throw forbidden('Guests cannot create sites.');
      if (actor.kind === 'app') requireAccess(actor, 'sites.write');
      const org = await readCollaborationSettings(db, actor.tenantId);
      const level = levelOf(body.sharingCapability) ?? org.sharingCapability;
      if (stricter(level, org.sharingCapability) !== level)
        throw badRequest(`The organization allows sharing up to ${org.sharingCapability}; a site cannot allow more.`);
      const now = clock.now().toISOString();
      const { site } = await db.transaction().execute(async (trx) => {
        const r = await insertSiteWithDrive(trx, {
          tenantId: actor.tenantId,
          groupId: null,
          displayName: body.displayName,
          description: body.description ?? null,
          sharing: level,
          now,
        });
        if (actor.kind === 'user')
          await trx
            .insertInto('site_members')
            .values({
              tenant_id: actor.tenantId,
              site_id: r.site.id,
              user_id: actor.userId,
              role: 'owner',
              added_by: actor.userId,
              created_at: now,
              expires_at: null,
            })
            .execute();
        return r;
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#sites/$entity`, ...(await shape(ctx, site)) };
    },

    async list(ctx: RequestContext) {
      const actor = ctx.actor;
      let q = db.selectFrom('sites').selectAll().where('tenant_id', '=', actor.tenantId);
      if (!(can(actor, 'sites.read') && !guestCaller(actor))) {
        if (actor.kind !== 'user') throw forbidden();
        q = q.where((eb) =>
          eb.or([
            eb(
              'id',
              'in',
              db
                .selectFrom('site_members')
                .select('site_id')
                .where('user_id', '=', actor.userId)
                .where((e) => e.or([e('expires_at', 'is', null), e('expires_at', '>', clock.now().toISOString())])),
            ),
            eb('group_id', 'in', db.selectFrom('group_memberships').select('group_id').where('user_id', '=', actor.userId).where('relation', '=', 'member')),
          ]),
        );
      }
      const search = typeof ctx.query.search === 'string' ? ctx.query.search.toLowerCase() : '';
      if (search) q = q.where('display_name_lower', 'like', `%${search.replace(/[\\%_]/g, '')}%`);
      const rows = await q.orderBy('display_name_lower').limit(500).execute();
      const value = [];
      for (const s of rows) value.push(await shape(ctx, s));
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#sites`, value };
    },

    async get(ctx: RequestContext, id: string) {
      const { site } = await open(ctx, id);
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#sites/$entity`, ...(await shape(ctx, site)) };
    },

    async groupSite(ctx: RequestContext, groupId: string) {
      const site = isGuid(groupId) ? await db.selectFrom('sites').select('id').where('group_id', '=', groupId.toLowerCase()).executeTakeFirst() : undefined;
      if (!site) throw notFound(groupId);
      return this.get(ctx, site.id);
    },

    /** Owners change the name or the sharing level (never above the organization's). */
    async update(ctx: RequestContext, id: string, body: SiteUpdateBody) {
      const { site, access } = await open(ctx, id);
      requireOwner(access);
      const level = levelOf(body.sharingCapability);
      if (level) {
        const org = await readCollaborationSettings(db, site.tenant_id);
        if (stricter(level, org.sharingCapability) !== level)
          throw badRequest(`The organization allows sharing up to ${org.sharingCapability}; the site cannot be set to ${level}.`);
      }
      await db
        .updateTable('sites')
        .set({
          ...(level ? { sharing_capability: level } : {}),
          ...(body.displayName ? { display_name: body.displayName, display_name_lower: body.displayName.toLowerCase() } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
        })
        .where('id', '=', site.id)
        .execute();
      return this.get(ctx, site.id);
    },

    async drives(ctx: RequestContext, id: string) {
      const { site } = await open(ctx, id);
      return files.siteDrives(ctx, site);
    },

    async defaultDrive(ctx: RequestContext, id: string) {
      const { site } = await open(ctx, id);
      const drives = await files.siteDrives(ctx, site);
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#drives/$entity`, ...drives.value[0]! };
    },

    /** POST /sites/{id}/lists with template documentLibrary: another document library. */
    async createLibrary(ctx: RequestContext, id: string, body: { displayName: string; list?: { template: string } }) {
      const { site, access } = await open(ctx, id);
      if (access !== 'manage' && access !== 'write') throw forbidden('Only the site’s owners and members can add libraries.');
      if (body.list && body.list.template !== 'documentLibrary') throw badRequest("Only document libraries (list.template 'documentLibrary') can be created.");
      if (await db.selectFrom('drives').select('id').where('site_id', '=', site.id).where('name', '=', body.displayName).executeTakeFirst())
        throw badRequest(`A library named '${body.displayName}' already exists on this site.`);
      const drive = await insertDrive(db, site.tenant_id, site.id, body.displayName, false, clock.now().toISOString());
      return { id: drive.id, displayName: drive.name, list: { template: 'documentLibrary' }, drive: { id: drive.id }, createdDateTime: drive.created_at };
    },

    async members(ctx: RequestContext, id: string) {
      const { site } = await open(ctx, id);
      return { value: await memberList(site) };
    },

    /** Adds a person by id or email; outside emails are invited as guests (source sharepoint) when the sharing level allows new guests. */
    async addMember(ctx: RequestContext, id: string, body: SiteMemberBody) {
      const { site, access } = await open(ctx, id);
      requireOwner(access);
      if (guestCaller(ctx.actor)) throw forbidden();
      if (site.group_id) throw badRequest("This is a team's site: add people to the team instead.");
      const role = body.role ?? 'member';
      let user;
      if (body.userId) {
        if (!isGuid(body.userId)) throw notFound(body.userId);
        [user] = await findLiveUsers(db, ctx.actor.tenantId, [body.userId.toLowerCase()]);
        if (!user) throw notFound(body.userId);
        if (user.user_type === 'Guest') {
          const level = await files.effectiveLevel(site);
          if (level === 'Disabled') throw forbidden(`'${site.display_name}' can only be shared with people in your organization.`);
        }
      } else if (body.email) user = await files.shareWithEmail(ctx, site, body.email.trim(), `the site "${site.display_name}"`, `/sites/${site.id}`);
      else throw badRequest("Give 'userId' or 'email'.");
      if (user.user_type === 'Guest' && role === 'owner') throw badRequest('Guests cannot be site owners.');
      const org = await readCollaborationSettings(db, site.tenant_id);
      const now = clock.now();
      const expires =
        user.user_type === 'Guest' && org.guestAccessExpirationDays ? new Date(now.getTime() + org.guestAccessExpirationDays * 86_400_000).toISOString() : null;
      await db
        .insertInto('site_members')
        .values({
          tenant_id: site.tenant_id,
          site_id: site.id,
          user_id: user.id,
          role,
          added_by: ctx.actor.kind === 'user' ? ctx.actor.userId : null,
          created_at: now.toISOString(),
          expires_at: expires,
        })
        .onConflict((oc) => oc.columns(['site_id', 'user_id']).doUpdateSet({ role, expires_at: expires }))
        .execute();
      return { id: user.id, displayName: user.display_name, email: user.mail, userType: user.user_type, role, expirationDateTime: expires, source: 'site' };
    },

    async removeMember(ctx: RequestContext, id: string, userId: string) {
      const { site, access } = await open(ctx, id);
      requireOwner(access);
      if (site.group_id) throw badRequest("This is a team's site: remove people from the team instead.");
      const r = isGuid(userId)
        ? await db.deleteFrom('site_members').where('site_id', '=', site.id).where('user_id', '=', userId.toLowerCase()).executeTakeFirst()
        : null;
      if (!r || Number(r.numDeletedRows) === 0) throw notFound(userId);
    },

    /** Site owners renew a guest's access for another period of the organization's length. */
    async renew(ctx: RequestContext, id: string, userId: string) {
      const { site, access } = await open(ctx, id);
      requireOwner(access);
      const org = await readCollaborationSettings(db, site.tenant_id);
      if (!org.guestAccessExpirationDays) throw badRequest('Guest access does not expire in this organization.');
      const row = isGuid(userId)
        ? await db.selectFrom('site_members').selectAll().where('site_id', '=', site.id).where('user_id', '=', userId.toLowerCase()).executeTakeFirst()
        : undefined;
      if (!row) throw notFound(userId);
      const expires = new Date(clock.now().getTime() + org.guestAccessExpirationDays * 86_400_000).toISOString();
      await db.updateTable('site_members').set({ expires_at: expires }).where('site_id', '=', site.id).where('user_id', '=', row.user_id).execute();
      return { id: row.user_id, role: row.role, expirationDateTime: expires };
    },
  };
}
export type SitesService = ReturnType<typeof createSitesService>;

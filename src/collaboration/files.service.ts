import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { GraphError, badRequest, forbidden, notFound } from '../graph/errors.js';
import type { Actor } from '../auth/permissions.js';
import { hashToken, randomToken } from '../auth/secrets.js';
import { isGuid, newId } from '../ids.js';
import { guestCaller } from './access.js';
import { emailProblem } from '../directory/email.js';
import type { UserRow } from '../directory/users.repository.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import { isUniqueViolation } from '../db/errors.js';
import { findTeam, siteAccessOf, type SiteAccess, type SiteRow } from './access.js';
import { allowsAnyoneLinks, allowsGuests, allowsNewGuests, readCollaborationSettings, stricter, type SharingLevel } from './settings.js';
import { defaultDriveOfSite, ensureFolder, type DriveItemRow, type DriveRow } from './drives.repository.js';
import type { FileStorage } from './storage.js';
import type { TeamsService } from './teams.service.js';
import type { CreateLinkBody, InviteBody } from './collaboration.schemas.js';

/** Types shown in the browser (preview); everything else downloads as an opaque attachment. */
const previewable: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
};
/** The content type a file's name gives it; an own key only, so a file named "__proto__" or "x.constructor" is an opaque download too. */
export const contentTypeOf = (name: string) => {
  const extension = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return Object.hasOwn(previewable, extension) ? previewable[extension]! : 'application/octet-stream';
};
export const isPreviewable = (type: string) => Object.values(previewable).includes(type);

/** SharePoint's rules for names: no path separators or reserved characters, no . or .. names. */
function checkName(name: string): string {
  const n = name.normalize('NFC');
  if (!n.trim() || n !== n.trim() || n.length > 255 || /["*:<>?/\\|]/.test(n) || [...n].some((c) => c.charCodeAt(0) < 32) || n === '.' || n === '..')
    throw badRequest(`The name '${name}' is not valid: 1 to 255 characters, without " * : < > ? / \\ | or leading and trailing spaces.`);
  return n;
}

type Access = SiteAccess | 'grant-read' | 'grant-write';
const canWrite = (a: Access) => a === 'manage' || a === 'write' || a === 'grant-write';

export function createFilesService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  storage: FileStorage;
  secret: string;
  invitations: InvitationsService;
  teams: TeamsService;
}) {
  const { db, clock, storage } = deps;
  const now = () => clock.now().toISOString();

  async function findDrive(tenantId: string, driveId: string): Promise<{ drive: DriveRow; site: SiteRow }> {
    const drive = isGuid(driveId)
      ? await db.selectFrom('drives').selectAll().where('tenant_id', '=', tenantId).where('id', '=', driveId.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!drive) throw notFound(driveId);
    const site = await db.selectFrom('sites').selectAll().where('id', '=', drive.site_id).executeTakeFirstOrThrow();
    if (site.group_id && !(await db.selectFrom('groups').select('id').where('id', '=', site.group_id).where('deleted_at', 'is', null).executeTakeFirst()))
      throw notFound(driveId);
    return { drive, site };
  }

  async function findItem(drive: DriveRow, itemId: string): Promise<DriveItemRow | null> {
    if (itemId === 'root') return null;
    const item = isGuid(itemId)
      ? await db.selectFrom('drive_items').selectAll().where('drive_id', '=', drive.id).where('id', '=', itemId.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!item) throw notFound(itemId);
    return item;
  }

  /** The item and its folders up to the library's root. */
  async function ancestry(item: DriveItemRow | null, drive: DriveRow): Promise<DriveItemRow[]> {
    const chain: DriveItemRow[] = [];
    let cur = item;
    while (cur) {
      chain.push(cur);
      if (cur.parent_id === drive.id) break;
      cur = (await db.selectFrom('drive_items').selectAll().where('id', '=', cur.parent_id).executeTakeFirst()) ?? null;
    }
    return chain;
  }

  /** The caller's access to an item: through the site (or team), else a grant on the item or a folder above it. */
  async function accessTo(actor: Actor, site: SiteRow, drive: DriveRow, item: DriveItemRow | null): Promise<Access> {
    const t = now();
    const viaSite = await siteAccessOf(db, actor, site, t);
    if (viaSite) return viaSite;
    if (actor.kind === 'user' && item) {
      const ids = (await ancestry(item, drive)).map((i) => i.id);
      const grants = await db
        .selectFrom('drive_item_grants')
        .select(['role', 'expires_at'])
        .where('user_id', '=', actor.userId)
        .where('item_id', 'in', ids)
        .execute();
      const live = grants.filter((g) => !g.expires_at || g.expires_at > t);
      if (live.some((g) => g.role === 'write')) return 'grant-write';
      if (live.length) return 'grant-read';
    }
    throw notFound(item?.id ?? drive.id);
  }

  async function open(ctx: RequestContext, driveId: string, itemId: string) {
    const { drive, site } = await findDrive(ctx.actor.tenantId, driveId);
    const item = await findItem(drive, itemId);
    const access = await accessTo(ctx.actor, site, drive, item);
    return { drive, site, item, access };
  }

  const shapeDrive = (ctx: RequestContext, d: DriveRow, site: SiteRow) => ({
    id: d.id,
    name: d.name,
    driveType: 'documentLibrary',
    createdDateTime: d.created_at,
    webUrl: `${ctx.baseUrl}/files/${d.id}`,
    sharePointIds: { siteId: site.id },
  });

  const shapeItem = (ctx: RequestContext, i: DriveItemRow, childCount?: number) => ({
    id: i.id,
    name: i.name,
    size: Number(i.size),
    createdDateTime: i.created_at,
    lastModifiedDateTime: i.modified_at,
    webUrl: `${ctx.baseUrl}/files/${i.drive_id}?item=${i.id}`,
    parentReference: { driveId: i.drive_id, id: i.parent_id === i.drive_id ? 'root' : i.parent_id },
    createdBy: { user: { id: i.created_by, displayName: i.created_by_name } },
    ...(i.is_folder
      ? { folder: { childCount: childCount ?? 0 } }
      : { file: { mimeType: i.content_type }, '@microsoft.graph.downloadUrl': `${ctx.baseUrl}/v1.0/drives/${i.drive_id}/items/${i.id}/content` }),
  });

  /** Guests of a team upload only into a channel's folder, the files attached to channel posts (Teams' default). */
  async function requireMayUpload(actor: Actor, site: SiteRow, drive: DriveRow, parent: DriveItemRow | null, access: Access) {
    if (canWrite(access)) return;
    if (guestCaller(actor) && site.group_id && parent && parent.parent_id === drive.id && parent.is_folder) {
      const channel = await db
        .selectFrom('channels')
        .select('id')
        .where('team_id', '=', site.group_id)
        .where('display_name_lower', '=', parent.name_lower)
        .executeTakeFirst();
      if (channel) return;
    }
    throw forbidden(
      guestCaller(actor) ? 'Guests can view and download files here; they upload only with a channel post.' : 'You can view but not change files here.',
    );
  }

  async function writeVersion(ctx: RequestContext, drive: DriveRow, parentId: string, name: string, data: Buffer, existing: DriveItemRow | undefined) {
    const actor = ctx.actor;
    const userId = actor.kind === 'user' ? actor.userId : `app:${actor.clientId}`;
    const versionId = newId();
    const key = `${drive.tenant_id}/${versionId}`;
    const type = contentTypeOf(name);
    const t = now();
    // The content first, under a fresh key: the rows that point at it commit only once it is stored.
    await storage.put(key, data);
    try {
      return await db.transaction().execute(async (trx) => {
        let item = existing;
        if (!item) {
          item = {
            tenant_id: drive.tenant_id,
            id: newId(),
            drive_id: drive.id,
            parent_id: parentId,
            name,
            name_lower: name.toLowerCase(),
            is_folder: 0,
            size: data.length,
            content_type: type,
            current_version_id: versionId,
            created_by: userId,
            created_by_name: actor.displayName,
            created_at: t,
            modified_at: t,
          };
          await trx.insertInto('drive_items').values(item).execute();
        } else {
          // The item's row first: on PostgreSQL the update locks it, so uploads of one file number
          // their versions one after another instead of reading the same last number.
          await trx
            .updateTable('drive_items')
            .set({ current_version_id: versionId, size: data.length, content_type: type, modified_at: t })
            .where('id', '=', item.id)
            .execute();
        }
        const last = await trx.selectFrom('drive_item_versions').select('number').where('item_id', '=', item.id).orderBy('number', 'desc').executeTakeFirst();
        await trx
          .insertInto('drive_item_versions')
          .values({
            tenant_id: drive.tenant_id,
            id: versionId,
            item_id: item.id,
            number: (last?.number ?? 0) + 1,
            storage_key: key,
            size: data.length,
            content_type: type,
            sha256: createHash('sha256').update(data).digest('base64'),
            created_by: userId,
            created_by_name: actor.displayName,
            created_at: t,
          })
          .execute();
        return { ...item, current_version_id: versionId, size: data.length, content_type: type, modified_at: t };
      });
    } catch (error) {
      await storage.remove(key);
      if (isUniqueViolation(error)) throw badRequest(`An item named '${name}' was created at the same time; try again.`);
      throw error;
    }
  }

  /** Who `email` is: a live user, or null when the address is new to the directory. */
  async function userByEmail(tenantId: string, email: string): Promise<UserRow | null> {
    const lower = email.toLowerCase();
    const byCol = (col: 'user_principal_name_lower' | 'mail_lower') =>
      db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where(col, '=', lower).where('deleted_at', 'is', null).executeTakeFirst();
    return (await byCol('mail_lower')) ?? (await byCol('user_principal_name_lower')) ?? null;
  }

  /** The level that applies to a site: its own, never above the organization's. */
  async function effectiveLevel(site: SiteRow): Promise<SharingLevel> {
    const org = await readCollaborationSettings(db, site.tenant_id);
    return stricter(org.sharingCapability, site.sharing_capability as SharingLevel);
  }

  /**
   * The person to share with: a member or an existing guest, or a new guest invited with source
   * sharepoint, as far as the site's sharing level allows; refused with the reason otherwise.
   */
  async function shareWithEmail(ctx: RequestContext, site: SiteRow, email: string, what: string, redirectPath: string, message?: string): Promise<UserRow> {
    // Before the lookup: an address that folds onto another one would find that person.
    const problem = emailProblem(email);
    if (problem) throw badRequest(problem);
    const level = await effectiveLevel(site);
    const user = await userByEmail(ctx.actor.tenantId, email);
    if (user && user.user_type === 'Member') return user;
    if (!allowsGuests(level)) throw forbidden(`'${site.display_name}' can only be shared with people in your organization.`);
    if (user) return user;
    if (!allowsNewGuests(level))
      throw forbidden(`'${site.display_name}' can only be shared with existing guests; '${email}' is not in your organization's directory yet.`);
    const r = await deps.invitations.invite(
      ctx,
      {
        invitedUserEmailAddress: email,
        inviteRedirectUrl: `${ctx.baseUrl}${redirectPath}`,
        sendInvitationMessage: true,
        invitedUserMessageInfo: { customizedMessageBody: `${ctx.actor.displayName} shared ${what} with you.${message ? `\n\n${message}` : ''}` },
      },
      'sharepoint',
    );
    return r.user;
  }

  return {
    effectiveLevel,
    shareWithEmail,
    shapeItem,
    findDrive,
    accessTo,

    async groupDrive(ctx: RequestContext, groupId: string) {
      // The library answers to whoever may open it (its site's access, Sites.ReadWrite.All), as /drives/{id} does.
      const team = await findTeam(db, ctx.actor.tenantId, groupId);
      const site = team ? await db.selectFrom('sites').selectAll().where('group_id', '=', team.id).executeTakeFirstOrThrow() : undefined;
      if (!site || !(await siteAccessOf(db, ctx.actor, site, now()))) throw notFound(groupId);
      const drive = (await defaultDriveOfSite(db, site.id))!;
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#drives/$entity`, ...shapeDrive(ctx, drive, site) };
    },

    async siteDrives(ctx: RequestContext, site: SiteRow) {
      const drives = await db.selectFrom('drives').selectAll().where('site_id', '=', site.id).orderBy('created_at').execute();
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#drives`, value: drives.map((d) => shapeDrive(ctx, d, site)) };
    },

    async getDrive(ctx: RequestContext, driveId: string) {
      const { drive, site } = await open(ctx, driveId, 'root');
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#drives/$entity`, ...shapeDrive(ctx, drive, site) };
    },

    async getItem(ctx: RequestContext, driveId: string, itemId: string) {
      const { drive, item } = await open(ctx, driveId, itemId);
      if (!item) return { id: 'root', name: 'root', root: {}, folder: { childCount: 0 }, parentReference: { driveId: drive.id } };
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#driveItems/$entity`, ...shapeItem(ctx, item) };
    },

    async children(ctx: RequestContext, driveId: string, itemId: string) {
      const { drive, item } = await open(ctx, driveId, itemId);
      if (item && !item.is_folder) throw badRequest(`'${item.name}' is a file, not a folder.`);
      const rows = await db
        .selectFrom('drive_items')
        .selectAll()
        .where('parent_id', '=', item?.id ?? drive.id)
        .orderBy('is_folder', 'desc')
        .orderBy('name_lower')
        .limit(1000)
        .execute();
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#driveItems`, value: rows.map((r) => shapeItem(ctx, r)) };
    },

    async createFolder(ctx: RequestContext, driveId: string, parentId: string, rawName: string) {
      const { drive, item, access } = await open(ctx, driveId, parentId);
      if (!canWrite(access)) throw forbidden(guestCaller(ctx.actor) ? 'Guests cannot create folders here.' : 'You can view but not change files here.');
      if (item && !item.is_folder) throw badRequest(`'${item.name}' is a file, not a folder.`);
      const name = checkName(rawName);
      const parent = item?.id ?? drive.id;
      if (await db.selectFrom('drive_items').select('id').where('parent_id', '=', parent).where('name_lower', '=', name.toLowerCase()).executeTakeFirst())
        throw badRequest(`An item named '${name}' already exists in this folder.`);
      const actor = ctx.actor;
      const row = await db.transaction().execute((trx) =>
        ensureFolder(trx, {
          tenantId: drive.tenant_id,
          driveId: drive.id,
          parentId: parent,
          name,
          userId: actor.kind === 'user' ? actor.userId : `app:${actor.clientId}`,
          userName: actor.displayName,
          now: now(),
        }),
      );
      return shapeItem(ctx, row);
    },

    /** PUT .../{parent}:/{name}:/content: a new file, or a new version of the file of that name. */
    async upload(ctx: RequestContext, driveId: string, parentId: string, rawName: string, data: Buffer) {
      const { drive, site, item: parent, access } = await open(ctx, driveId, parentId);
      if (parent && !parent.is_folder) throw badRequest(`'${parent.name}' is a file, not a folder.`);
      await requireMayUpload(ctx.actor, site, drive, parent, access);
      const name = checkName(rawName);
      const parentKey = parent?.id ?? drive.id;
      const existing = await db
        .selectFrom('drive_items')
        .selectAll()
        .where('parent_id', '=', parentKey)
        .where('name_lower', '=', name.toLowerCase())
        .executeTakeFirst();
      if (existing?.is_folder) throw badRequest(`'${name}' is a folder.`);
      // Someone who may only add files (a guest posting in a channel) does not overwrite others' files.
      if (existing && !canWrite(access) && existing.created_by !== (ctx.actor.kind === 'user' ? ctx.actor.userId : ''))
        throw forbidden(`A file named '${name}' already exists and belongs to someone else; choose another name.`);
      const row = await writeVersion(ctx, drive, parentKey, name, data, existing);
      return { created: !existing, item: { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#driveItems/$entity`, ...shapeItem(ctx, row) } };
    },

    /** PUT .../items/{id}/content: a new version of a file. */
    async replace(ctx: RequestContext, driveId: string, itemId: string, data: Buffer) {
      const { drive, item, access } = await open(ctx, driveId, itemId);
      if (!item || item.is_folder) throw badRequest('Only a file has content.');
      if (!canWrite(access))
        throw forbidden(guestCaller(ctx.actor) ? 'Guests can view and download files here, not change them.' : 'You can view but not change files here.');
      const row = await writeVersion(ctx, drive, item.parent_id, item.name, data, item);
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#driveItems/$entity`, ...shapeItem(ctx, row) };
    },

    async content(ctx: RequestContext, driveId: string, itemId: string, versionId?: string) {
      const { item } = await open(ctx, driveId, itemId);
      if (!item || item.is_folder) throw badRequest('Only a file has content.');
      return readVersion(item, versionId);
    },

    async versions(ctx: RequestContext, driveId: string, itemId: string) {
      const { item } = await open(ctx, driveId, itemId);
      if (!item || item.is_folder) throw badRequest('Only a file has versions.');
      const rows = await db.selectFrom('drive_item_versions').selectAll().where('item_id', '=', item.id).orderBy('number', 'desc').execute();
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#driveItemVersions`,
        value: rows.map((v) => ({
          id: v.id,
          // SharePoint numbers major versions 1.0, 2.0, ...
          versionLabel: `${v.number}.0`,
          lastModifiedDateTime: v.created_at,
          size: Number(v.size),
          lastModifiedBy: { user: { id: v.created_by, displayName: v.created_by_name } },
          current: v.id === item.current_version_id,
        })),
      };
    },

    async remove(ctx: RequestContext, driveId: string, itemId: string) {
      const { item, access } = await open(ctx, driveId, itemId);
      if (!item) throw badRequest('The root folder cannot be deleted.');
      if (!canWrite(access)) throw forbidden(guestCaller(ctx.actor) ? 'Guests cannot delete files here.' : 'You can view but not change files here.');
      const keys: string[] = [];
      const collect = async (id: string) => {
        for (const v of await db.selectFrom('drive_item_versions').select('storage_key').where('item_id', '=', id).execute()) keys.push(v.storage_key);
        for (const c of await db.selectFrom('drive_items').select('id').where('parent_id', '=', id).execute()) await collect(c.id);
      };
      await collect(item.id);
      const ids: string[] = [];
      const gather = async (id: string) => {
        ids.push(id);
        for (const c of await db.selectFrom('drive_items').select('id').where('parent_id', '=', id).execute()) await gather(c.id);
      };
      await gather(item.id);
      await db.transaction().execute(async (trx) => {
        for (const id of ids.reverse()) await trx.deleteFrom('drive_items').where('id', '=', id).execute();
      });
      // Contents go after the rows: a failure here leaves unreferenced files, never a row without content.
      for (const k of keys) await storage.remove(k).catch(() => undefined);
    },

    /** POST .../items/{id}/invite: share an item with people by email (Graph's driveItem invite). */
    async invite(ctx: RequestContext, driveId: string, itemId: string, body: InviteBody) {
      const { drive, site, item, access } = await open(ctx, driveId, itemId);
      if (!item) throw badRequest('Share the site instead of the root folder.');
      if (guestCaller(ctx.actor) || !(access === 'manage' || access === 'write')) throw forbidden('Only the site’s owners and members can share.');
      if (body.requireSignIn === false) throw badRequest('Invitations require sign-in; create an Anyone link for sharing without it.');
      const role = body.roles?.includes('write') ? 'write' : 'read';
      const org = await readCollaborationSettings(db, site.tenant_id);
      const value = [];
      for (const r of body.recipients) {
        const user = await shareWithEmail(ctx, site, r.email.trim(), `"${item.name}"`, `/files/${drive.id}?item=${item.id}`, body.message);
        const t = now();
        const expires =
          user.user_type === 'Guest' && org.guestAccessExpirationDays
            ? new Date(clock.now().getTime() + org.guestAccessExpirationDays * 86_400_000).toISOString()
            : null;
        await db
          .insertInto('drive_item_grants')
          .values({ tenant_id: site.tenant_id, id: newId(), item_id: item.id, user_id: user.id, role, created_at: t, expires_at: expires })
          .onConflict((oc) => oc.columns(['item_id', 'user_id']).doUpdateSet({ role, expires_at: expires }))
          .execute();
        value.push({
          id: `${item.id}:${user.id}`,
          roles: [role],
          grantedTo: { user: { id: user.id, displayName: user.display_name, email: user.mail } },
          expirationDateTime: expires,
        });
      }
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#Collection(permission)`, value };
    },

    /** POST .../items/{id}/createLink: an Anyone (anonymous) or organization link, within the site's sharing level. */
    async createLink(ctx: RequestContext, driveId: string, itemId: string, body: CreateLinkBody) {
      const { site, item, access } = await open(ctx, driveId, itemId);
      if (!item) throw badRequest('Links are made to a file.');
      if (guestCaller(ctx.actor) || !(access === 'manage' || access === 'write')) throw forbidden('Only the site’s owners and members can share.');
      const scope = body.scope ?? 'organization';
      if (body.type === 'edit') throw badRequest("Foyer's links let people view; share with people by email to let them edit.");
      if (scope === 'anonymous') {
        if (item.is_folder) throw badRequest('Anyone links are made to files.');
        if (!allowsAnyoneLinks(await effectiveLevel(site)))
          throw forbidden(`'${site.display_name}' does not allow Anyone links; share with people by email instead.`);
      }
      const org = await readCollaborationSettings(db, site.tenant_id);
      const max = new Date(clock.now().getTime() + org.anyoneLinkExpirationDays * 86_400_000);
      let expires: Date | null = scope === 'anonymous' ? max : null;
      if (body.expirationDateTime) {
        const asked = new Date(body.expirationDateTime);
        if (Number.isNaN(asked.getTime()) || asked <= clock.now())
          throw badRequest(`expirationDateTime '${body.expirationDateTime}' must be a future date and time.`);
        expires = scope === 'anonymous' && asked > max ? max : asked;
      }
      const token = randomToken(24);
      const t = now();
      await db
        .insertInto('sharing_links')
        .values({
          tenant_id: site.tenant_id,
          id: newId(),
          item_id: item.id,
          token_hash: hashToken(token),
          scope,
          created_by: ctx.actor.kind === 'user' ? ctx.actor.userId : `app:${ctx.actor.clientId}`,
          created_at: t,
          expires_at: expires?.toISOString() ?? null,
        })
        .execute();
      const webUrl = scope === 'anonymous' ? `${ctx.baseUrl}/s/${token}` : `${ctx.baseUrl}/files/${item.drive_id}?item=${item.id}`;
      return { id: token.slice(0, 8), roles: ['read'], link: { type: 'view', scope, webUrl }, expirationDateTime: expires?.toISOString() ?? null };
    },

    /** The file behind an Anyone link, while the link and the site's level allow it. */
    async openLink(token: string) {
      const link = await db
        .selectFrom('sharing_links')
        .selectAll()
        .where('token_hash', '=', hashToken(token))
        .where('scope', '=', 'anonymous')
        .executeTakeFirst();
      if (!link || (link.expires_at && link.expires_at <= now())) return null;
      const item = await db.selectFrom('drive_items').selectAll().where('id', '=', link.item_id).executeTakeFirst();
      if (!item) return null;
      const drive = await db.selectFrom('drives').selectAll().where('id', '=', item.drive_id).executeTakeFirstOrThrow();
      const site = await db.selectFrom('sites').selectAll().where('id', '=', drive.site_id).executeTakeFirstOrThrow();
      // Lowering the level later also ends the links it no longer allows.
      if (!allowsAnyoneLinks(await effectiveLevel(site))) return null;
      return readVersion(item);
    },
  };

  async function readVersion(item: DriveItemRow, versionId?: string) {
    const v = await db
      .selectFrom('drive_item_versions')
      .selectAll()
      .where('item_id', '=', item.id)
      .where('id', '=', versionId && isGuid(versionId) ? versionId.toLowerCase() : (item.current_version_id ?? ''))
      .executeTakeFirst();
    if (!v) throw notFound(versionId ?? item.id);
    let data: Buffer;
    try {
      data = await storage.get(v.storage_key);
    } catch {
      throw new GraphError('Request_ResourceNotFound', `The content of '${item.name}' is not available.`);
    }
    return { name: item.name, contentType: v.content_type, data };
  }
}
export type FilesService = ReturnType<typeof createFilesService>;

import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import { newId } from '../ids.js';
import type { DriveItemsTable, DrivesTable } from './tables.js';
import type { SharingLevel } from './settings.js';

export type DriveRow = Selectable<DrivesTable>;
export type DriveItemRow = Selectable<DriveItemsTable>;

/** A site with its default document library ("Documents"); a team's site carries the group id. */
export async function insertSiteWithDrive(
  trx: Kysely<Database>,
  a: { tenantId: string; groupId: string | null; displayName: string; description: string | null; sharing: SharingLevel; now: string },
) {
  const site = {
    tenant_id: a.tenantId,
    id: newId(),
    group_id: a.groupId,
    display_name: a.displayName,
    display_name_lower: a.displayName.toLowerCase(),
    description: a.description,
    sharing_capability: a.sharing,
    created_at: a.now,
  };
  await trx.insertInto('sites').values(site).execute();
  const drive = await insertDrive(trx, a.tenantId, site.id, 'Documents', true, a.now);
  return { site, drive };
}

export async function insertDrive(trx: Kysely<Database>, tenantId: string, siteId: string, name: string, isDefault: boolean, now: string): Promise<DriveRow> {
  const drive: DriveRow = { tenant_id: tenantId, id: newId(), site_id: siteId, name, is_default: isDefault ? 1 : 0, created_at: now };
  await trx.insertInto('drives').values(drive).execute();
  return drive;
}

/** The folder `name` under `parentId`, made when missing. */
export async function ensureFolder(
  trx: Kysely<Database>,
  a: { tenantId: string; driveId: string; parentId: string; name: string; userId: string; userName: string; now: string },
): Promise<DriveItemRow> {
  const existing = await trx
    .selectFrom('drive_items')
    .selectAll()
    .where('parent_id', '=', a.parentId)
    .where('name_lower', '=', a.name.toLowerCase())
    .executeTakeFirst();
  if (existing) return existing;
  const row: DriveItemRow = {
    tenant_id: a.tenantId,
    id: newId(),
    drive_id: a.driveId,
    parent_id: a.parentId,
    name: a.name,
    name_lower: a.name.toLowerCase(),
    is_folder: 1,
    size: 0,
    content_type: null,
    current_version_id: null,
    created_by: a.userId,
    created_by_name: a.userName,
    created_at: a.now,
    modified_at: a.now,
  };
  await trx.insertInto('drive_items').values(row).execute();
  return row;
}

export async function defaultDriveOfSite(db: Kysely<Database>, siteId: string): Promise<DriveRow | undefined> {
  return db.selectFrom('drives').selectAll().where('site_id', '=', siteId).where('is_default', '=', 1).executeTakeFirst();
}

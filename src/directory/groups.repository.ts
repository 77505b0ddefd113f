import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { GroupRow } from './groups.model.js';

export type Relation = 'member' | 'owner';

export async function findGroup(db: Kysely<Database>, tenantId: string, id: string, state: 'live' | 'deleted' = 'live'): Promise<GroupRow | undefined> {
  let q = db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
  q = state === 'live' ? q.where('deleted_at', 'is', null) : q.where('deleted_at', 'is not', null);
  return q.executeTakeFirst();
}

/** Which of `userIds` already hold `relation` in the group. */
export async function existingRelations(db: Kysely<Database>, groupId: string, relation: Relation, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .selectFrom('group_memberships')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('relation', '=', relation)
    .where('user_id', 'in', userIds)
    .execute();
  return rows.map((r) => r.user_id);
}

export async function addRelations(
  trx: Kysely<Database>,
  tenantId: string,
  groupId: string,
  relation: Relation,
  userIds: string[],
  now: string,
): Promise<void> {
  if (userIds.length === 0) return;
  await trx
    .insertInto('group_memberships')
    .values(userIds.map((user_id) => ({ tenant_id: tenantId, group_id: groupId, user_id, relation, created_at: now })))
    .execute();
}

export async function removeRelation(trx: Kysely<Database>, groupId: string, relation: Relation, userId: string): Promise<boolean> {
  const r = await trx
    .deleteFrom('group_memberships')
    .where('group_id', '=', groupId)
    .where('relation', '=', relation)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function isRelated(db: Kysely<Database>, groupId: string, relation: Relation, userId: string): Promise<boolean> {
  return Boolean(
    await db
      .selectFrom('group_memberships')
      .select('user_id')
      .where('group_id', '=', groupId)
      .where('relation', '=', relation)
      .where('user_id', '=', userId)
      .executeTakeFirst(),
  );
}

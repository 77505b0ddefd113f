import type { Selectable } from 'kysely';
import type { GroupsTable } from '../db/schema.js';
import type { EntityDefinition } from '../graph/entity.js';

export type GroupRow = Selectable<GroupsTable>;

/** The Graph `group` entity as Foyer serves it. */
export const groupEntity: EntityDefinition = {
  type: 'group',
  entitySet: 'groups',
  properties: [
    'id',
    'displayName',
    'description',
    'mail',
    'mailEnabled',
    'mailNickname',
    'securityEnabled',
    'groupTypes',
    'visibility',
    'createdDateTime',
    'deletedDateTime',
  ],
  defaultProperties: [
    'id',
    'displayName',
    'description',
    'mail',
    'mailEnabled',
    'mailNickname',
    'securityEnabled',
    'groupTypes',
    'visibility',
    'createdDateTime',
    'deletedDateTime',
  ],
  filterable: {
    id: { column: 'id', type: 'guid' },
    displayName: { column: 'display_name_lower', type: 'string', caseInsensitive: true, startsWith: true },
    mailNickname: { column: 'mail_nickname', type: 'string', startsWith: true },
    mail: { column: 'mail', type: 'string', nullable: true, startsWith: true },
    mailEnabled: { column: 'mail_enabled', type: 'boolean' },
    securityEnabled: { column: 'security_enabled', type: 'boolean' },
    createdDateTime: { column: 'created_at', type: 'datetime' },
  },
  sortable: { displayName: 'display_name_lower', createdDateTime: 'created_at' },
  keyColumn: 'id',
  advancedQueryGating: true,
  searchable: ['displayName', 'description'],
};

const groupProperties: Record<string, (r: GroupRow) => unknown> = {
  id: (r) => r.id,
  displayName: (r) => r.display_name,
  description: (r) => r.description,
  mail: (r) => r.mail,
  mailEnabled: (r) => Boolean(r.mail_enabled),
  mailNickname: (r) => r.mail_nickname,
  securityEnabled: (r) => Boolean(r.security_enabled),
  groupTypes: (r) => JSON.parse(r.group_types) as string[],
  visibility: (r) => r.visibility,
  createdDateTime: (r) => r.created_at,
  deletedDateTime: (r) => r.deleted_at,
};

/** A group in Graph's shape with the selected properties (`id` always). */
export function toGraphGroup(row: GroupRow, select: readonly string[], withType = false): Record<string, unknown> {
  const out: Record<string, unknown> = withType ? { '@odata.type': '#microsoft.graph.group' } : {};
  if (!select.includes('id')) out.id = row.id;
  for (const p of select) out[p] = groupProperties[p]!(row);
  return out;
}

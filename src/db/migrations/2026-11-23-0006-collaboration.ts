import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

// Teams (a Microsoft 365 group with team features), channels, chat messages (channels and meeting
// chats), meetings with participants and attendance, sites with members, document libraries with
// items, versions, sharing grants and "Anyone" links, and the organization's collaboration
// settings. Mail messages gain attachments (meeting invitations carry an .ics file).
// Memberships of a user are kept while the user is in deleted items (restore brings them back) and
// go with the user when it is purged (cascade).
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = (c: ColumnDefinitionBuilder) => (pg ? c.modifyFront(sql`collate "C"`) : c);
  const keyNotNull = (c: ColumnDefinitionBuilder) => key(c).notNull();

  await db.schema.alterTable('mail_messages').addColumn('attachments', 'text').execute();

  await db.schema
    .createTable('collaboration_settings')
    .addColumn('tenant_id', 'text', (c) => key(c).primaryKey().references('tenants.id'))
    .addColumn('settings', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('teams')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey().references('groups.id').onDelete('cascade'))
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .execute();

  await db.schema
    .createTable('channels')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('team_id', 'text', (c) => keyNotNull(c).references('teams.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_lower', 'text', keyNotNull)
    .addColumn('description', 'text')
    .addColumn('is_general', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addUniqueConstraint('channels_team_name', ['team_id', 'display_name_lower'])
    .execute();

  // One table for channel posts and meeting chat: conversation_id is a channel or a meeting.
  await db.schema
    .createTable('chat_messages')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('conversation_id', 'text', keyNotNull)
    .addColumn('team_id', 'text', key)
    .addColumn('reply_to_id', 'text', key)
    .addColumn('from_user_id', 'text', keyNotNull)
    .addColumn('from_display_name', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('mentions', 'text', (c) => c.notNull())
    .addColumn('attachments', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('edited_at', 'text')
    .addColumn('deleted_at', 'text')
    .execute();
  await db.schema.createIndex('chat_messages_page').on('chat_messages').columns(['conversation_id', 'reply_to_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('chat_messages_replies').on('chat_messages').columns(['reply_to_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('meetings')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('team_id', 'text', (c) => key(c).references('teams.id').onDelete('cascade'))
    .addColumn('organizer_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('agenda', 'text', (c) => c.notNull())
    .addColumn('start_at', 'text', keyNotNull)
    .addColumn('end_at', 'text', keyNotNull)
    .addColumn('created_at', 'text', keyNotNull)
    .execute();
  await db.schema.createIndex('meetings_team').on('meetings').columns(['team_id', 'start_at']).execute();

  await db.schema
    .createTable('meeting_participants')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('meeting_id', 'text', (c) => keyNotNull(c).references('meetings.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('meeting_participants_pk', ['meeting_id', 'user_id'])
    .execute();
  await db.schema.createIndex('meeting_participants_user').on('meeting_participants').columns(['user_id']).execute();

  await db.schema
    .createTable('meeting_attendance')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('meeting_id', 'text', (c) => keyNotNull(c).references('meetings.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('joined_at', 'text', keyNotNull)
    .addColumn('left_at', 'text')
    .execute();
  await db.schema.createIndex('meeting_attendance_meeting').on('meeting_attendance').columns(['meeting_id', 'user_id', 'left_at']).execute();

  // A team's files live in its site (group_id set); other sites have members of their own.
  await db.schema
    .createTable('sites')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('group_id', 'text', (c) => key(c).unique().references('groups.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_lower', 'text', keyNotNull)
    .addColumn('description', 'text')
    .addColumn('sharing_capability', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .execute();
  await db.schema.createIndex('sites_name').on('sites').columns(['tenant_id', 'display_name_lower', 'id']).execute();

  await db.schema
    .createTable('site_members')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('site_id', 'text', (c) => keyNotNull(c).references('sites.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('added_by', 'text')
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('expires_at', 'text')
    .addPrimaryKeyConstraint('site_members_pk', ['site_id', 'user_id'])
    .execute();
  await db.schema.createIndex('site_members_user').on('site_members').columns(['user_id']).execute();

  await db.schema
    .createTable('drives')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('site_id', 'text', (c) => keyNotNull(c).references('sites.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .execute();
  await db.schema.createIndex('drives_site').on('drives').columns(['site_id']).execute();

  // parent_id of a top-level item is the drive's id (never null, so the unique name per folder holds on both engines).
  await db.schema
    .createTable('drive_items')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('drive_id', 'text', (c) => keyNotNull(c).references('drives.id').onDelete('cascade'))
    .addColumn('parent_id', 'text', keyNotNull)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_lower', 'text', keyNotNull)
    .addColumn('is_folder', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('current_version_id', 'text', key)
    .addColumn('created_by', 'text', keyNotNull)
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('modified_at', 'text', keyNotNull)
    .addUniqueConstraint('drive_items_name', ['parent_id', 'name_lower'])
    .execute();
  await db.schema.createIndex('drive_items_drive').on('drive_items').columns(['drive_id']).execute();

  await db.schema
    .createTable('drive_item_versions')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('item_id', 'text', (c) => keyNotNull(c).references('drive_items.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', keyNotNull)
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .execute();
  await db.schema.createIndex('drive_item_versions_item').on('drive_item_versions').columns(['item_id', 'number']).execute();

  // An item (and what is under it) shared with one person.
  await db.schema
    .createTable('drive_item_grants')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('item_id', 'text', (c) => keyNotNull(c).references('drive_items.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('expires_at', 'text')
    .addUniqueConstraint('drive_item_grants_item_user', ['item_id', 'user_id'])
    .execute();
  await db.schema.createIndex('drive_item_grants_user').on('drive_item_grants').columns(['user_id']).execute();

  // "Anyone" links: only the hash of the link's token is kept.
  await db.schema
    .createTable('sharing_links')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('item_id', 'text', (c) => keyNotNull(c).references('drive_items.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => keyNotNull(c).unique())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', keyNotNull)
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('expires_at', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'sharing_links',
    'drive_item_grants',
    'drive_item_versions',
    'drive_items',
    'drives',
    'site_members',
    'sites',
    'meeting_attendance',
    'meeting_participants',
    'meetings',
    'chat_messages',
    'channels',
    'teams',
    'collaboration_settings',
  ])
    await db.schema.dropTable(t).execute();
  await db.schema.alterTable('mail_messages').dropColumn('attachments').execute();
}

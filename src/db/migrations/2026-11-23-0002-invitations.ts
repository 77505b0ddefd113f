import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

// Invitations, outgoing mail, one-time codes, consent, blocked senders, collaboration policy and
// rate-limit counters. Same conventions as 0001 (text keys in "C" collation on PostgreSQL).
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = (c: ColumnDefinitionBuilder) => (pg ? c.modifyFront(sql`collate "C"`) : c);
  const keyNotNull = (c: ColumnDefinitionBuilder) => key(c).notNull();

  await db.schema
    .alterTable('tenants')
    .addColumn('collaboration_policy', 'text', (c) => c.notNull().defaultTo('{"mode":"none","domains":[]}'))
    .execute();
  await db.schema.alterTable('users').addColumn('consented_at', 'text').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('invited_email', 'text', (c) => c.notNull())
    .addColumn('invited_email_lower', 'text', keyNotNull)
    .addColumn('inviter_id', 'text', keyNotNull)
    .addColumn('inviter_type', 'text', (c) => c.notNull())
    .addColumn('inviter_display_name', 'text', (c) => c.notNull())
    .addColumn('inviter_email', 'text')
    .addColumn('redirect_url', 'text', (c) => c.notNull())
    .addColumn('message_body', 'text')
    .addColumn('message_language', 'text')
    .addColumn('cc_recipients', 'text', (c) => c.notNull())
    .addColumn('send_message', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', keyNotNull)
    .addColumn('status', 'text', keyNotNull)
    .addColumn('token_hash', 'text', (c) => keyNotNull(c).unique())
    .addColumn('token_expires_at', 'text', (c) => c.notNull())
    .addColumn('reset_redemption', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('last_sent_at', 'text')
    .addColumn('send_count', 'integer', (c) => c.notNull())
    .addColumn('delivery_state', 'text', (c) => c.notNull())
    .addColumn('accepted_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('invitations_created').on('invitations').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('invitations_user').on('invitations').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('invitations_status').on('invitations').columns(['tenant_id', 'status', 'created_at', 'id']).execute();

  await db.schema
    .createTable('user_sponsors')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('sponsor_id', 'text', keyNotNull)
    .addColumn('sponsor_type', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_sponsors_pk', ['user_id', 'sponsor_id'])
    .execute();

  await db.schema
    .createTable('mail_messages')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('invitation_id', 'text', key)
    .addColumn('kind', 'text', keyNotNull)
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_addresses', 'text', (c) => c.notNull())
    .addColumn('cc_addresses', 'text', (c) => c.notNull())
    .addColumn('reply_to', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('status', 'text', keyNotNull)
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('mail_messages_created').on('mail_messages').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('mail_messages_invitation').on('mail_messages').columns(['invitation_id']).execute();

  await db.schema
    .createTable('one_time_codes')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('failed_attempts', 'integer', (c) => c.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  await db.schema.createIndex('one_time_codes_user').on('one_time_codes').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('blocked_invitees')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('email_lower', 'text', keyNotNull)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('blocked_invitees_pk', ['tenant_id', 'email_lower'])
    .execute();

  // Fixed-window counters shared by every process (per inviter, per client, per address, per IP).
  await db.schema
    .createTable('rate_limits')
    .addColumn('bucket', 'text', (c) => key(c).notNull())
    .addColumn('window_start', 'text', keyNotNull)
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limits_pk', ['bucket', 'window_start'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}

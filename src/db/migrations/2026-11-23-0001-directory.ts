import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

// Written with the schema builder only, so the same migration runs on SQLite and PostgreSQL.
// On PostgreSQL every text key uses the "C" collation: byte order, like SQLite's BINARY,
// so prefix ranges and keyset comparisons behave the same on both engines.
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = (c: ColumnDefinitionBuilder) => (pg ? c.modifyFront(sql`collate "C"`) : c);
  const keyNotNull = (c: ColumnDefinitionBuilder) => key(c).notNull();

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('initial_domain', 'text', (c) => keyNotNull(c).unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('authorization_policy', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_lower', 'text', keyNotNull)
    .addColumn('given_name', 'text')
    .addColumn('given_name_lower', 'text', key)
    .addColumn('surname', 'text')
    .addColumn('surname_lower', 'text', key)
    .addColumn('mail', 'text')
    .addColumn('mail_lower', 'text', key)
    .addColumn('other_mails', 'text', (c) => c.notNull())
    .addColumn('user_principal_name', 'text', (c) => c.notNull())
    .addColumn('user_principal_name_lower', 'text', keyNotNull)
    .addColumn('mail_nickname', 'text', (c) => c.notNull())
    .addColumn('user_type', 'text', keyNotNull)
    .addColumn('account_enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('creation_type', 'text', key)
    .addColumn('external_user_state', 'text', key)
    .addColumn('external_user_state_changed_at', 'text', key)
    .addColumn('identities', 'text', (c) => c.notNull())
    .addColumn('company_name', 'text')
    .addColumn('job_title', 'text')
    .addColumn('department', 'text')
    .addColumn('preferred_language', 'text')
    .addColumn('business_phones', 'text', (c) => c.notNull())
    .addColumn('mobile_phone', 'text')
    .addColumn('office_location', 'text')
    .addColumn('last_sign_in_at', 'text', key)
    .addColumn('last_successful_sign_in_at', 'text', key)
    .addColumn('deleted_at', 'text', key)
    .addColumn('password_hash', 'text')
    .addColumn('source', 'text', key)
    .addColumn('invited_by', 'text', key)
    .execute();

  // Live users: every list filter and order is one of these (tenant, column, id) indexes, so
  // the first page and any keyset page are a range scan whatever the directory's size.
  const live = sql<boolean>`deleted_at is null`;
  await db.schema.createIndex('users_upn_unique').unique().on('users').columns(['tenant_id', 'user_principal_name_lower']).where(live).execute();
  for (const col of [
    'id',
    'user_type',
    'external_user_state',
    'display_name_lower',
    'given_name_lower',
    'surname_lower',
    'mail_lower',
    'created_at',
    'last_sign_in_at',
    'source',
    'creation_type',
  ]) {
    const cols = col === 'id' ? ['tenant_id', 'id'] : ['tenant_id', col, 'id'];
    await db.schema.createIndex(`users_live_${col}`).on('users').columns(cols).where(live).execute();
  }
  // Guest list filters combine userType with the column, so these pairs are indexed too.
  for (const col of ['display_name_lower', 'created_at', 'external_user_state']) {
    await db.schema.createIndex(`users_live_type_${col}`).on('users').columns(['tenant_id', 'user_type', col, 'id']).where(live).execute();
  }
  await db.schema
    .createIndex('users_deleted')
    .on('users')
    .columns(['tenant_id', 'deleted_at', 'id'])
    .where(sql<boolean>`deleted_at is not null`)
    .execute();

  await db.schema
    .createTable('user_other_mails')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('address_lower', 'text', keyNotNull)
    .addPrimaryKeyConstraint('user_other_mails_pk', ['user_id', 'address_lower'])
    .execute();
  await db.schema.createIndex('user_other_mails_address').on('user_other_mails').columns(['tenant_id', 'address_lower', 'user_id']).execute();

  await db.schema
    .createTable('user_identities')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('sign_in_type', 'text', keyNotNull)
    .addColumn('issuer', 'text', keyNotNull)
    .addColumn('issuer_assigned_id_lower', 'text', keyNotNull)
    .addPrimaryKeyConstraint('user_identities_pk', ['user_id', 'sign_in_type', 'issuer', 'issuer_assigned_id_lower'])
    .execute();
  await db.schema.createIndex('user_identities_assigned').on('user_identities').columns(['tenant_id', 'issuer_assigned_id_lower', 'user_id']).execute();

  await db.schema
    .createTable('user_search_terms')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('field', 'text', keyNotNull)
    .addColumn('term', 'text', keyNotNull)
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('user_search_terms_pk', ['tenant_id', 'field', 'term', 'user_id'])
    .execute();
  await db.schema.createIndex('user_search_terms_user').on('user_search_terms').columns(['user_id']).execute();

  await db.schema
    .createTable('groups')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_lower', 'text', keyNotNull)
    .addColumn('description', 'text')
    .addColumn('mail_nickname', 'text', keyNotNull)
    .addColumn('mail', 'text', key)
    .addColumn('mail_enabled', 'integer', (c) => c.notNull())
    .addColumn('security_enabled', 'integer', (c) => c.notNull())
    .addColumn('group_types', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text')
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('deleted_at', 'text', key)
    .execute();
  for (const col of ['id', 'display_name_lower', 'created_at', 'mail_nickname']) {
    const cols = col === 'id' ? ['tenant_id', 'id'] : ['tenant_id', col, 'id'];
    await db.schema.createIndex(`groups_live_${col}`).on('groups').columns(cols).where(live).execute();
  }
  await db.schema
    .createIndex('groups_deleted')
    .on('groups')
    .columns(['tenant_id', 'deleted_at', 'id'])
    .where(sql<boolean>`deleted_at is not null`)
    .execute();

  await db.schema
    .createTable('group_memberships')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('group_id', 'text', (c) => keyNotNull(c).references('groups.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('relation', 'text', keyNotNull)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_memberships_pk', ['group_id', 'relation', 'user_id'])
    .execute();
  await db.schema.createIndex('group_memberships_user').on('group_memberships').columns(['user_id', 'relation', 'group_id']).execute();

  await db.schema
    .createTable('role_assignments')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('role_template_id', 'text', keyNotNull)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_assignments_pk', ['user_id', 'role_template_id'])
    .execute();
  await db.schema.createIndex('role_assignments_role').on('role_assignments').columns(['tenant_id', 'role_template_id', 'user_id']).execute();

  await db.schema
    .createTable('api_clients')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'text')
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => key(c).primaryKey())
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('user_id', 'text', (c) => keyNotNull(c).references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', keyNotNull)
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').columns(['user_id']).execute();
  await db.schema.createIndex('sessions_expires').on('sessions').columns(['expires_at']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('tenant_id', 'text', key)
    .addColumn('type', 'text', keyNotNull)
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', keyNotNull)
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_at', 'text', keyNotNull)
    .addColumn('locked_until', 'text', key)
    .addColumn('locked_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('singleton_key', 'text', (c) => key(c).unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();

  await db.schema
    .createTable('audit_logs')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('activity_at', 'text', keyNotNull)
    .addColumn('activity_display_name', 'text', keyNotNull)
    .addColumn('category', 'text', keyNotNull)
    .addColumn('correlation_id', 'text', keyNotNull)
    .addColumn('initiator_id', 'text', key)
    .addColumn('initiated_by', 'text', (c) => c.notNull())
    .addColumn('logged_by_service', 'text', (c) => c.notNull())
    .addColumn('operation_type', 'text', keyNotNull)
    .addColumn('result', 'text', keyNotNull)
    .addColumn('result_reason', 'text', (c) => c.notNull())
    .addColumn('target_resources', 'text', (c) => c.notNull())
    .execute();
  for (const col of ['activity_at', 'activity_display_name', 'initiator_id', 'category', 'operation_type', 'result']) {
    const cols = col === 'activity_at' ? ['tenant_id', 'activity_at', 'id'] : ['tenant_id', col, 'activity_at', 'id'];
    await db.schema.createIndex(`audit_logs_${col}`).on('audit_logs').columns(cols).execute();
  }
  await db.schema
    .createTable('audit_log_targets')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('audit_id', 'text', (c) => keyNotNull(c).references('audit_logs.id').onDelete('cascade'))
    .addColumn('target_id', 'text', keyNotNull)
    .addColumn('activity_at', 'text', keyNotNull)
    .addPrimaryKeyConstraint('audit_log_targets_pk', ['audit_id', 'target_id'])
    .execute();
  await db.schema.createIndex('audit_log_targets_target').on('audit_log_targets').columns(['tenant_id', 'target_id', 'activity_at', 'audit_id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}

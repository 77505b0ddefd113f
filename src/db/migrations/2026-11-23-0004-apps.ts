import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

// Applications, their service principals and app role assignments, and the OpenID Connect
// provider's storage (signing keys, and the codes, tokens, sessions and grants oidc-provider keeps),
// so any number of processes on one PostgreSQL database serve single sign-on together.
// Same conventions as 0001 (text keys in "C" collation on PostgreSQL).
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = (c: ColumnDefinitionBuilder) => (pg ? c.modifyFront(sql`collate "C"`) : c);
  const keyNotNull = (c: ColumnDefinitionBuilder) => key(c).notNull();

  await db.schema
    .createTable('applications')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('app_id', 'text', (c) => keyNotNull(c).unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_lower', 'text', keyNotNull)
    .addColumn('description', 'text')
    .addColumn('web_redirect_uris', 'text', (c) => c.notNull())
    .addColumn('web_home_page_url', 'text')
    .addColumn('web_logout_url', 'text')
    .addColumn('public_client_redirect_uris', 'text', (c) => c.notNull())
    .addColumn('is_fallback_public_client', 'integer', (c) => c.notNull())
    .addColumn('logo_url', 'text')
    .addColumn('app_roles', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .execute();
  await db.schema.createIndex('applications_name').on('applications').columns(['tenant_id', 'display_name_lower', 'id']).execute();
  await db.schema.createIndex('applications_created').on('applications').columns(['tenant_id', 'created_at', 'id']).execute();

  // passwordCredentials: only a hash of each secret is kept; the secret is shown once.
  await db.schema
    .createTable('application_secrets')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('application_id', 'text', (c) => keyNotNull(c).references('applications.id').onDelete('cascade'))
    .addColumn('key_id', 'text', (c) => key(c).primaryKey())
    .addColumn('display_name', 'text')
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('start_at', 'text', (c) => c.notNull())
    .addColumn('end_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('application_secrets_app').on('application_secrets').columns(['application_id']).execute();

  await db.schema
    .createTable('service_principals')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('application_id', 'text', (c) => keyNotNull(c).unique().references('applications.id').onDelete('cascade'))
    .addColumn('app_id', 'text', (c) => keyNotNull(c).unique())
    .addColumn('app_role_assignment_required', 'integer', (c) => c.notNull())
    .addColumn('account_enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .execute();
  await db.schema.createIndex('service_principals_created').on('service_principals').columns(['tenant_id', 'created_at', 'id']).execute();

  // A principal is a user or a group; one foreign key each, so purging either removes its
  // assignments, while a soft-deleted user keeps them for a restore.
  await db.schema
    .createTable('app_role_assignments')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('resource_id', 'text', (c) => keyNotNull(c).references('service_principals.id').onDelete('cascade'))
    .addColumn('principal_id', 'text', keyNotNull)
    .addColumn('principal_type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => key(c).references('users.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => key(c).references('groups.id').onDelete('cascade'))
    .addColumn('app_role_id', 'text', keyNotNull)
    .addColumn('created_at', 'text', keyNotNull)
    .addUniqueConstraint('app_role_assignments_unique', ['resource_id', 'principal_id', 'app_role_id'])
    .execute();
  await db.schema.createIndex('app_role_assignments_principal').on('app_role_assignments').columns(['principal_id', 'resource_id']).execute();

  // Signing keys of ID tokens: the private key is encrypted with a key derived from FOYER_SECRET.
  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('kid', 'text', (c) => key(c).primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('retire_at', 'text', key)
    .execute();

  // oidc-provider's models (Session, Interaction, AuthorizationCode, RefreshToken, AccessToken, Grant, ...).
  await db.schema
    .createTable('oidc_payloads')
    .addColumn('kind', 'text', keyNotNull)
    .addColumn('id', 'text', keyNotNull)
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text', key)
    .addColumn('uid', 'text', key)
    .addColumn('user_code', 'text', key)
    .addColumn('client_id', 'text', key)
    .addColumn('account_id', 'text', key)
    .addColumn('expires_at', 'text', key)
    .addColumn('consumed_at', 'text')
    .addPrimaryKeyConstraint('oidc_payloads_pk', ['kind', 'id'])
    .execute();
  await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').columns(['grant_id']).execute();
  await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').columns(['kind', 'uid']).execute();
  await db.schema.createIndex('oidc_payloads_user_code').on('oidc_payloads').columns(['kind', 'user_code']).execute();
  await db.schema.createIndex('oidc_payloads_client').on('oidc_payloads').columns(['client_id']).execute();
  await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').columns(['account_id']).execute();
  await db.schema.createIndex('oidc_payloads_expires').on('oidc_payloads').columns(['expires_at']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}

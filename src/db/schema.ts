/**
 * Table types. Conventions that keep one code path for SQLite and PostgreSQL:
 * - timestamps are ISO-8601 UTC strings (`Date.toISOString()`), which sort correctly as text;
 * - booleans are integers 0/1 (better-sqlite3 cannot bind JS booleans);
 * - JSON values are text, parsed by the service that owns them;
 * - `*_lower` columns hold the case-folded copy used for Graph's case-insensitive filters,
 *   sorting and indexes (binary / "C" collation on both engines).
 */
export type Bool = 0 | 1;

export interface TenantsTable {
  id: string;
  display_name: string;
  initial_domain: string;
  created_at: string;
  /** JSON of the authorization policy (allowInvitesFrom, guestUserRoleId, ...). */
  authorization_policy: string;
  /** JSON {mode: 'none' | 'allow' | 'deny', domains: string[]}. */
  collaboration_policy: string;
}

export interface UsersTable {
  tenant_id: string;
  id: string;
  display_name: string;
  display_name_lower: string;
  given_name: string | null;
  given_name_lower: string | null;
  surname: string | null;
  surname_lower: string | null;
  mail: string | null;
  mail_lower: string | null;
  other_mails: string; // JSON string[]
  user_principal_name: string;
  user_principal_name_lower: string;
  mail_nickname: string;
  user_type: 'Member' | 'Guest';
  account_enabled: Bool;
  created_at: string;
  creation_type: string | null;
  external_user_state: 'PendingAcceptance' | 'Accepted' | null;
  external_user_state_changed_at: string | null;
  identities: string; // JSON [{signInType, issuer, issuerAssignedId}]
  company_name: string | null;
  job_title: string | null;
  department: string | null;
  preferred_language: string | null;
  business_phones: string; // JSON string[]
  mobile_phone: string | null;
  office_location: string | null;
  last_sign_in_at: string | null;
  last_successful_sign_in_at: string | null;
  deleted_at: string | null;
  password_hash: string | null;
  /** Where a guest came from: directory, bulk, teams, sharepoint, api. */
  source: string | null;
  invited_by: string | null;
  /** When the guest accepted the consent page (asked once). */
  consented_at: string | null;
}

/** One row per otherMails value, so `otherMails/any(x: x eq '...')` is index-backed. */
export interface UserOtherMailsTable {
  tenant_id: string;
  user_id: string;
  address_lower: string;
}

/** One row per identity, so `identities/any(...)` is index-backed. */
export interface UserIdentitiesTable {
  tenant_id: string;
  user_id: string;
  sign_in_type: string;
  issuer: string;
  issuer_assigned_id_lower: string;
}

/**
 * `$search` index: for each searchable property, every suffix of its case-folded value that
 * starts at a word boundary ("ana de vries", "de vries", "vries"), so a word-prefix search is
 * one index range scan on both engines.
 */
export interface UserSearchTermsTable {
  tenant_id: string;
  field: string;
  term: string;
  user_id: string;
}

export interface GroupsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  display_name_lower: string;
  description: string | null;
  mail_nickname: string;
  mail: string | null;
  mail_enabled: Bool;
  security_enabled: Bool;
  group_types: string; // JSON string[]
  visibility: string | null;
  created_at: string;
  deleted_at: string | null;
}

export interface GroupMembershipsTable {
  tenant_id: string;
  group_id: string;
  user_id: string;
  relation: 'member' | 'owner';
  created_at: string;
}

export interface RoleAssignmentsTable {
  tenant_id: string;
  user_id: string;
  role_template_id: string;
  created_at: string;
}

export interface ApiClientsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  display_name_lower: string;
  secret_hash: string;
  /** Raised by each rotation; access tokens carry it, so the old secret's tokens end with it. */
  secret_version: number;
  secret_changed_at: string;
  permissions: string; // JSON string[]
  created_at: string;
  disabled_at: string | null;
}

export interface SessionsTable {
  /** sha256 of the cookie value; the value itself is never stored. */
  token_hash: string;
  tenant_id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface JobsTable {
  id: string;
  tenant_id: string | null;
  type: string;
  payload: string; // JSON
  status: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  max_attempts: number;
  run_at: string;
  locked_until: string | null;
  locked_by: string | null;
  last_error: string | null;
  /** Set for recurring jobs: one row per key, rescheduled in place. */
  singleton_key: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface AuditLogsTable {
  tenant_id: string;
  id: string;
  activity_at: string;
  activity_display_name: string;
  category: string;
  correlation_id: string;
  initiator_id: string | null;
  initiated_by: string; // JSON {user|app}
  logged_by_service: string;
  operation_type: string;
  result: 'success' | 'failure';
  result_reason: string;
  target_resources: string; // JSON
}

/** One row per target of an audit entry, so `targetResources/any(t: t/id eq ...)` is index-backed. */
export interface AuditLogTargetsTable {
  tenant_id: string;
  audit_id: string;
  target_id: string;
  activity_at: string;
}

export interface InvitationsTable {
  tenant_id: string;
  id: string;
  user_id: string;
  invited_email: string;
  invited_email_lower: string;
  inviter_id: string;
  inviter_type: 'user' | 'app';
  inviter_display_name: string;
  inviter_email: string | null;
  redirect_url: string;
  message_body: string | null;
  message_language: string | null;
  cc_recipients: string; // JSON [{address, name}]
  send_message: Bool;
  source: string;
  /** PendingAcceptance | Accepted | Revoked */
  status: string;
  /** sha256 of the redeem link's token. */
  token_hash: string;
  token_expires_at: string;
  reset_redemption: Bool;
  created_at: string;
  last_sent_at: string | null;
  send_count: number;
  /** notRequested | queued | sent | retrying | failed */
  delivery_state: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

export interface UserSponsorsTable {
  tenant_id: string;
  user_id: string;
  sponsor_id: string;
  sponsor_type: 'user' | 'group';
}

export interface MailMessagesTable {
  tenant_id: string;
  id: string;
  invitation_id: string | null;
  kind: string;
  from_address: string;
  to_addresses: string; // JSON string[]
  cc_addresses: string; // JSON string[]
  reply_to: string | null;
  subject: string;
  text_body: string;
  html_body: string;
  created_at: string;
  /** queued | sent | retrying | failed */
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
  /** JSON [{filename, contentType, content}] (content as text, e.g. an .ics invitation), or null. */
  attachments?: string | null;
  /** JSON {kind, baseUrl} when the bodies are rendered on delivery from current data (invitations); the bodies are then empty. */
  template?: string | null;
}

export interface OneTimeCodesTable {
  tenant_id: string;
  id: string;
  user_id: string;
  /** Keyed hash of the code; the code itself is only in the email. */
  code_hash: string;
  created_at: string;
  expires_at: string;
  /** Guesses judged against the code, each counted before it is judged; at MAX_WRONG_CODES the code is dead. */
  failed_attempts: number;
  consumed_at: string | null;
}

export interface BlockedInviteesTable {
  tenant_id: string;
  email_lower: string;
  created_at: string;
}

export interface RateLimitsTable {
  bucket: string;
  window_start: string;
  hits: number;
}

/** Smart lockout state of password sign-in, per account (or unknown sign-in name) and per client address. */
export interface SignInLockoutsTable {
  /** `account:<user id>`, `name:<sign-in name as typed, lower case>` or `address:<client IP>`. */
  key: string;
  /** When the current count of failures began (a key with a counting window starts over after it). */
  window_start: string;
  /** Password checks counted since the count began; each is counted before it is judged. */
  failures: number;
  /** How often the key has been locked; each lock lasts longer than the one before. */
  lockouts: number;
  locked_until: string | null;
  last_attempt_at: string;
}

export type BulkInvitationStatus = 'queued' | 'running' | 'completed' | 'cancelled';
export type BulkRowStatus = 'pending' | 'succeeded' | 'failed' | 'alreadyInvited';

export interface BulkInvitationsTable {
  tenant_id: string;
  id: string;
  status: BulkInvitationStatus;
  file_name: string;
  created_by_id: string;
  created_by_type: 'user' | 'app';
  created_by_display_name: string;
  created_by_upn: string | null;
  correlation_id: string;
  /** JSON {redirectUrl, language, groups: string[]}: the upload's defaults. */
  options: string;
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  already_invited: number;
  /** When the last email this upload queued is due: its emails are spaced at the mail rate. */
  mail_run_at: string | null;
  /** The job's place in the upload: every line before this one has its outcome. */
  next_line: number;
  created_at: string;
  completed_at: string | null;
}

/** One line of an uploaded file, validated at upload; the job records its outcome. */
export interface BulkInvitationRowsTable {
  tenant_id: string;
  bulk_id: string;
  /** Line number in the file (1-based, counting the header lines). */
  line: number;
  email: string;
  display_name: string | null;
  redirect_url: string | null;
  send_email: Bool;
  message: string | null;
  /** JSON string[] of group ids, resolved at upload. */
  groups: string;
  status: BulkRowStatus;
  user_id: string | null;
  invitation_id: string | null;
  error_column: string | null;
  reason: string | null;
}

export interface ApplicationsTable {
  tenant_id: string;
  /** Object id. */
  id: string;
  /** The client id applications sign in with. */
  app_id: string;
  display_name: string;
  display_name_lower: string;
  description: string | null;
  web_redirect_uris: string; // JSON string[]
  web_home_page_url: string | null;
  web_logout_url: string | null;
  public_client_redirect_uris: string; // JSON string[]
  is_fallback_public_client: Bool;
  logo_url: string | null;
  app_roles: string; // JSON appRole[]
  created_at: string;
}

export interface ApplicationSecretsTable {
  tenant_id: string;
  application_id: string;
  key_id: string;
  display_name: string | null;
  /** First characters of the secret, as Graph shows them. */
  hint: string;
  /** sha256 of the secret; the secret itself is shown once. */
  secret_hash: string;
  start_at: string;
  end_at: string;
}

export interface ServicePrincipalsTable {
  tenant_id: string;
  id: string;
  application_id: string;
  app_id: string;
  app_role_assignment_required: Bool;
  account_enabled: Bool;
  created_at: string;
}

export interface AppRoleAssignmentsTable {
  tenant_id: string;
  id: string;
  /** The service principal. */
  resource_id: string;
  principal_id: string;
  principal_type: 'User' | 'Group';
  /** Set when the principal is a user (cascade on purge). */
  user_id: string | null;
  /** Set when the principal is a group (cascade on purge). */
  group_id: string | null;
  app_role_id: string;
  created_at: string;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string; // JSON
  /** AES-256-GCM with a key derived from FOYER_SECRET. */
  private_jwk_encrypted: string;
  created_at: string;
  /** After this the key is no longer published (set when a newer key replaces it). */
  retire_at: string | null;
}

export interface OidcPayloadsTable {
  /** oidc-provider model name: Session, AuthorizationCode, RefreshToken, Grant, ... */
  kind: string;
  id: string;
  payload: string; // JSON
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  client_id: string | null;
  account_id: string | null;
  expires_at: string | null;
  consumed_at: string | null;
}

export interface Database {
  tenants: TenantsTable;
  users: UsersTable;
  user_other_mails: UserOtherMailsTable;
  user_identities: UserIdentitiesTable;
  user_search_terms: UserSearchTermsTable;
  groups: GroupsTable;
  group_memberships: GroupMembershipsTable;
  role_assignments: RoleAssignmentsTable;
  api_clients: ApiClientsTable;
  sessions: SessionsTable;
  jobs: JobsTable;
  audit_logs: AuditLogsTable;
  audit_log_targets: AuditLogTargetsTable;
  invitations: InvitationsTable;
  user_sponsors: UserSponsorsTable;
  mail_messages: MailMessagesTable;
  one_time_codes: OneTimeCodesTable;
  blocked_invitees: BlockedInviteesTable;
  rate_limits: RateLimitsTable;
  sign_in_lockouts: SignInLockoutsTable;
  bulk_invitations: BulkInvitationsTable;
  bulk_invitation_rows: BulkInvitationRowsTable;
  applications: ApplicationsTable;
  application_secrets: ApplicationSecretsTable;
  service_principals: ServicePrincipalsTable;
  app_role_assignments: AppRoleAssignmentsTable;
  oidc_signing_keys: OidcSigningKeysTable;
  oidc_payloads: OidcPayloadsTable;
}

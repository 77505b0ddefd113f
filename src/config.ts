import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';

/** Validated, frozen runtime configuration. */
export interface Config {
  port: number;
  host: string;
  /** Public base URL without trailing slash, or null to derive it from each request. */
  baseUrl: string | null;
  /**
   * Which peers are proxies of ours, whose X-Forwarded-For/-Host/-Proto are believed (Fastify's
   * `trustProxy`): none, every peer, the nearest N hops, or these addresses and networks.
   */
  trustProxy: TrustProxy;
  dataDir: string;
  databaseUrl: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  orgName: string;
  orgDomain: string;
  adminEmail: string | null;
  adminPassword: string | null;
  secret: string;
  production: boolean;
  logLevel: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** How long an invitation's redeem link stays valid. */
  inviteTtlDays: number;
  /** Invitations per inviter (person or API client) per minute; 0 turns the limit off. */
  invitesPerMinute: number;
  /** Most lines one bulk invitation file may have. */
  bulkMaxRows: number;
  /** Largest bulk invitation file accepted, in bytes. */
  bulkMaxBytes: number;
  /** Invitation emails of a bulk upload sent per second. */
  mailRatePerSecond: number;
  /** How long a job stays claimed without progress before another worker may take it over. */
  jobLockSeconds: number;
  /** Largest file one upload to a team or site library may be, in bytes. */
  uploadMaxBytes: number;
  /** PostgreSQL: most connections one process opens. */
  dbPoolSize: number;
  /** PostgreSQL: how long a query waits for a connection before it is answered 503. */
  dbConnectTimeoutSeconds: number;
}

/** FOYER_TRUST_PROXY as Fastify's `trustProxy` option takes it. */
export type TrustProxy = boolean | number | string[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** proxy-addr's names for address ranges, accepted in the FOYER_TRUST_PROXY list as Fastify accepts them. */
const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address or network of the FOYER_TRUST_PROXY list: an IPv4/IPv6 address, with a prefix length or not, or a named range. */
function isAddressOrNetwork(entry: string): boolean {
  if (namedRanges.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address!);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Reads FOYER_TRUST_PROXY: unset, `false` or 0 trust no one; `true` every peer; a whole number that many hops; else a list. */
function parseTrustProxy(raw: string | undefined): TrustProxy | null {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((e) => e.trim());
  return entries.every(isAddressOrNetwork) ? entries : null;
}

const domainPattern = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/**
 * Reads the environment and reports every problem at once (ConfigError), so an operator fixes
 * a broken deployment in one round instead of one variable at a time.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';

  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number (0-65535), got '${env.PORT}'`);

  let baseUrl: string | null = null;
  if (env.FOYER_BASE_URL) {
    try {
      const u = new URL(env.FOYER_BASE_URL);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      baseUrl = u.toString().replace(/\/+$/, '');
    } catch {
      problems.push(`FOYER_BASE_URL must be an http(s) URL, got '${env.FOYER_BASE_URL}'`);
    }
  }

  if (!baseUrl && production && !problems.some((p) => p.startsWith('FOYER_BASE_URL')))
    problems.push('FOYER_BASE_URL is required when NODE_ENV=production (the public URL that links in emails point to)');

  const trustProxy = parseTrustProxy(env.FOYER_TRUST_PROXY);
  if (trustProxy === null)
    problems.push(
      `FOYER_TRUST_PROXY must be a number of proxy hops, true, or a comma-separated list of proxy addresses and networks (10.0.0.1, 10.0.0.0/8), got '${env.FOYER_TRUST_PROXY}'`,
    );

  const databaseUrl = env.DATABASE_URL || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');

  const smtpUrl = env.SMTP_URL || null;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must be an smtp:// or smtps:// URL');

  const orgDomain = (env.FOYER_ORG_DOMAIN ?? 'contoso.test').toLowerCase();
  if (!domainPattern.test(orgDomain)) problems.push(`FOYER_ORG_DOMAIN must be a domain name, got '${env.FOYER_ORG_DOMAIN}'`);
  const orgName = env.FOYER_ORG_NAME ?? 'Contoso';
  if (!orgName.trim() || orgName.length > 256) problems.push('FOYER_ORG_NAME must be 1 to 256 characters');

  const adminEmail = env.FOYER_ADMIN_EMAIL?.toLowerCase() || null;
  if (adminEmail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(adminEmail)) problems.push(`FOYER_ADMIN_EMAIL must be an email address, got '${env.FOYER_ADMIN_EMAIL}'`);
  const adminPassword = env.FOYER_ADMIN_PASSWORD || null;
  if (adminPassword && adminPassword.length < 12) problems.push('FOYER_ADMIN_PASSWORD must be at least 12 characters');

  const mailFrom = env.FOYER_MAIL_FROM ?? `Foyer <no-reply@${orgDomain}>`;
  const dataDir = path.resolve(env.FOYER_DATA_DIR ?? './data');

  let secret = env.FOYER_SECRET ?? '';
  if (secret && secret.length < 32) problems.push('FOYER_SECRET must be at least 32 characters');
  if (!secret && production) problems.push('FOYER_SECRET is required when NODE_ENV=production');

  const bodyLimit = Number(env.FOYER_BODY_LIMIT ?? 1024 * 1024);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) problems.push('FOYER_BODY_LIMIT must be a whole number of bytes, at least 1024');

  const inviteTtlDays = Number(env.FOYER_INVITE_TTL_DAYS ?? 30);
  if (!Number.isInteger(inviteTtlDays) || inviteTtlDays < 1 || inviteTtlDays > 365)
    problems.push('FOYER_INVITE_TTL_DAYS must be a whole number of days from 1 to 365');
  const invitesPerMinute = Number(env.FOYER_INVITE_RATE_PER_MINUTE ?? 1200);
  if (!Number.isInteger(invitesPerMinute) || invitesPerMinute < 0) problems.push('FOYER_INVITE_RATE_PER_MINUTE must be a whole number (0 turns the limit off)');

  const wholeNumber = (name: string, fallback: number, min: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < min) problems.push(`${name} must be a whole number of at least ${min}`);
    return value;
  };
  const bulkMaxRows = wholeNumber('FOYER_BULK_MAX_ROWS', 500_000, 1);
  const bulkMaxBytes = wholeNumber('FOYER_BULK_MAX_BYTES', 200 * 1024 * 1024, 1024);
  const mailRatePerSecond = wholeNumber('FOYER_MAIL_RATE', 20, 1);
  const jobLockSeconds = wholeNumber('FOYER_JOB_LOCK_SECONDS', 60, 1);
  const uploadMaxBytes = wholeNumber('FOYER_UPLOAD_MAX_BYTES', 100 * 1024 * 1024, 1024);
  const dbPoolSize = wholeNumber('FOYER_DB_POOL_SIZE', 10, 1);
  const dbConnectTimeoutSeconds = wholeNumber('FOYER_DB_CONNECT_TIMEOUT_SECONDS', 5, 1);

  if (problems.length) throw new ConfigError(problems);
  if (!secret) secret = readOrCreateSecret(dataDir);

  return Object.freeze({
    port,
    host: env.FOYER_HOST ?? 'localhost',
    baseUrl,
    trustProxy: trustProxy ?? false,
    dataDir,
    databaseUrl,
    smtpUrl,
    mailFrom,
    orgName,
    orgDomain,
    adminEmail,
    adminPassword,
    secret,
    production,
    logLevel: env.LOG_LEVEL ?? (production ? 'info' : 'warn'),
    bodyLimit,
    inviteTtlDays,
    invitesPerMinute,
    bulkMaxRows,
    bulkMaxBytes,
    mailRatePerSecond,
    jobLockSeconds,
    uploadMaxBytes,
    dbPoolSize,
    dbConnectTimeoutSeconds,
  });
}

/** Development convenience: a secret generated once and kept in the data directory (mode 0600). */
function readOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

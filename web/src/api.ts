// The admin center talks only to Foyer's own API, with the session cookie (httpOnly, so never
// read here) and the CSRF token the session answers, which rides on every write.

export interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

/** A non-2xx answer in Graph's error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
/** The session's CSRF token, sent as X-CSRF-Token on writes. */
export const setCsrfToken = (token: string | null) => {
  csrfToken = token;
};

type Listener = () => void;
const expiredListeners = new Set<Listener>();
/** Called when the API answers 401: the session ended (expired, signed out elsewhere, user deleted). */
export function onSessionExpired(listener: Listener): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** A body sent as it is (a file), with its content type, instead of JSON. */
  raw?: { body: BodyInit; type: string };
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not treat 401 as an expired session (the sign-in call itself). */
  quiet401?: boolean;
}

async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.raw) headers['content-type'] = opts.raw.type;
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body: opts.raw ? opts.raw.body : opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: 'same-origin',
    signal: opts.signal,
  });
  if (res.ok) return res;
  let body: GraphErrorBody = {};
  try {
    body = (await res.json()) as GraphErrorBody;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  if (res.status === 401 && !opts.quiet401) expiredListeners.forEach((l) => l());
  throw new ApiError(res.status, body.error?.code ?? `HTTP ${res.status}`, body.error?.message ?? res.statusText);
}

/** The raw answer of a GET (a file to read as a stream); errors as for `api`. */
export const fetchRaw = (path: string, signal?: AbortSignal) => send(path, { headers: { accept: '*/*' }, signal });

/** JSON request; 204 answers `undefined`. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

/** A Graph collection page. */
export interface Page<T> {
  value: T[];
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
}

/** The path and query of a nextLink (the server writes absolute URLs; the app stays on its origin). */
export const relative = (link: string) => {
  const u = new URL(link, window.location.origin);
  return u.pathname + u.search;
};

/** OData string literal: single quotes doubled. */
export const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Graph `$search` term, quoted; double quotes and backslashes cannot appear inside. */
export const searchTerm = (property: string, text: string) => `"${property}:${text.replace(/["\\]/g, ' ').trim()}"`;

/**
 * `$search` for what a person types in a search box: an address or domain (it has `@` or `.`)
 * searches `mail`, anything else `displayName`. One property per search keeps it one index range;
 * `"displayName:x" OR "mail:x"` made the server merge two ranges, seconds at a million users.
 */
export function peopleSearch(text: string): string {
  const t = text.trim();
  return /[@.]/.test(t) ? searchTerm('mail', t.replace(/^@/, '')) : searchTerm('displayName', t);
}

export const eventual = { consistencylevel: 'eventual' };

export interface SessionInfo {
  user: { id: string; displayName: string; userPrincipalName: string; userType: 'Member' | 'Guest' };
  roles: { id: string; displayName: string }[];
  csrfToken: string;
}

export interface User {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  userType?: 'Member' | 'Guest';
  accountEnabled?: boolean;
  createdDateTime?: string;
  creationType?: string | null;
  externalUserState?: 'PendingAcceptance' | 'Accepted' | null;
  externalUserStateChangeDateTime?: string | null;
  signInActivity?: { lastSignInDateTime: string | null; lastSuccessfulSignInDateTime: string | null } | null;
  foyerSource?: string | null;
  foyerInvitedBy?: { id: string; displayName: string | null } | null;
  deletedDateTime?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  companyName?: string | null;
  preferredLanguage?: string | null;
  identities?: { signInType: string; issuer: string; issuerAssignedId: string }[];
}

export interface Group {
  id: string;
  displayName: string;
  description: string | null;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  createdDateTime: string;
}

export interface Invitation {
  id: string;
  invitedUserEmailAddress: string;
  invitedUserDisplayName: string | null;
  invitedUser: { id: string; userPrincipalName: string | null };
  status: 'PendingAcceptance' | 'Accepted' | 'Revoked' | 'Expired';
  source: string;
  invitedBy: { id: string; displayName: string; type: string };
  createdDateTime: string;
  lastSentDateTime: string | null;
  sendCount: number;
  deliveryState: string;
  inviteRedirectUrl: string;
  expirationDateTime: string;
  inviteRedeemUrl?: string;
}

export const directoryObjectRef = (id: string) => ({ '@odata.id': `${window.location.origin}/v1.0/directoryObjects/${id}` });

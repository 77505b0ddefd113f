import { SignJWT, jwtVerify } from 'jose';
import { deriveKey } from './secrets.js';

export const ACCESS_TOKEN_LIFETIME_SECONDS = 3599;
const ISSUER = 'foyer';
const AUDIENCE = 'foyer-graph';
/** Tokens whose signature has been checked, remembered (oldest dropped first) so it is checked once. */
const VERIFIED_CACHE_SIZE = 1000;

export interface AppTokenClaims {
  tenantId: string;
  clientId: string;
  /** The version of the client's secret the token was issued for (1 for tokens issued before secrets had versions). */
  secretVersion: number;
}

/** Signs and verifies the JWT access tokens handed to API clients (HS256, key derived from FOYER_SECRET). */
export function createAccessTokens(secret: string) {
  const key = deriveKey(secret, 'access-token');
  const verified = new Map<string, { claims: AppTokenClaims; nbf: number; exp: number }>();
  return {
    async issue(claims: AppTokenClaims & { roles: string[] }, now: Date): Promise<string> {
      const iat = Math.floor(now.getTime() / 1000);
      return new SignJWT({ tid: claims.tenantId, appid: claims.clientId, roles: claims.roles, idtyp: 'app', ver_secret: claims.secretVersion })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(claims.clientId)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + ACCESS_TOKEN_LIFETIME_SECONDS)
        .sign(key);
    },
    /** The token's tenant and client, or null when it is not a valid, current Foyer token. */
    async verify(token: string, now: Date): Promise<AppTokenClaims | null> {
      // A client sends the same token for up to an hour; its signature is checked once, its time
      // window on every call. (The HMAC went through WebCrypto's thread pool on every request.)
      const seconds = now.getTime() / 1000;
      const known = verified.get(token);
      if (known) return seconds >= known.nbf && seconds < known.exp ? known.claims : null;
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], currentDate: now });
        if (typeof payload.tid !== 'string' || typeof payload.appid !== 'string') return null;
        const claims = { tenantId: payload.tid, clientId: payload.appid, secretVersion: typeof payload.ver_secret === 'number' ? payload.ver_secret : 1 };
        if (typeof payload.exp === 'number' && typeof payload.nbf === 'number') {
          if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
          verified.set(token, { claims, nbf: payload.nbf, exp: payload.exp });
        }
        return claims;
      } catch {
        return null;
      }
    },
  };
}
export type AccessTokens = ReturnType<typeof createAccessTokens>;

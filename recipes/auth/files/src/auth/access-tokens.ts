import { createSecretKey, type KeyObject, randomUUID } from 'node:crypto'
import { jwtVerify, SignJWT } from 'jose'
import type { Role } from './schema.js'

export interface AccessTokenConfig {
  secret: string
  issuer: string
  audience: string
  ttlSeconds: number
}

export interface AccessClaims {
  userId: string
  role: Role
  /** The user's token version when it was issued (src/auth/token-versions.ts). */
  version: number
}

/**
 * Short-lived access tokens: HS256 JWTs signed with a key object (a string secret makes some JWT
 * libraries re-derive the key on every call), verified with an explicit algorithm allowlist,
 * issuer, audience, type and expiry, with at most 60 s of clock skew.
 */
export class AccessTokens {
  private readonly key: KeyObject

  constructor(private readonly config: AccessTokenConfig) {
    this.key = createSecretKey(Buffer.from(config.secret, 'utf8'))
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ role: claims.role, ver: claims.version })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(claims.userId)
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setIssuedAt()
      .setExpirationTime(`${this.config.ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(this.key)
  }

  /** The claims of a valid token; throws for anything else (tampered, expired, wrong alg…). */
  async verify(token: string): Promise<AccessClaims> {
    const { payload } = await jwtVerify(token, this.key, {
      algorithms: ['HS256'],
      issuer: this.config.issuer,
      audience: this.config.audience,
      typ: 'at+jwt',
      clockTolerance: 60,
      requiredClaims: ['sub', 'exp', 'iat'],
    })
    if (
      typeof payload.sub !== 'string' ||
      (payload.role !== 'user' && payload.role !== 'admin') ||
      !Number.isSafeInteger(payload.ver)
    ) {
      throw new Error('malformed access token claims')
    }
    return { userId: payload.sub, role: payload.role, version: payload.ver as number }
  }
}

import type { ColumnType, Generated, Selectable } from 'kysely'

export const roles = ['user', 'admin'] as const
export type Role = (typeof roles)[number]

declare global {
  namespace Express {
    interface User {
      role: Role
    }
  }
}

export interface UsersTable {
  id: Generated<string>
  email: string
  username: string
  password_hash: string
  role: ColumnType<Role, Role | undefined, Role>
  /** Access tokens carry it; bumping it ends every session of the user at once. */
  token_version: Generated<number>
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export interface RefreshTokensTable {
  id: Generated<string>
  user_id: string
  /** Every token rotated from one login shares a family; reuse of any revokes them all. */
  family_id: string
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: string
  expires_at: Date
  revoked_at: Date | null
  created_at: ColumnType<Date, never, never>
}

declare module '../db/schema.js' {
  interface Database {
    users: UsersTable
    refresh_tokens: RefreshTokensTable
  }
}

export type User = Selectable<UsersTable>

/** What any response may show of a user: never the password hash. */
export const publicUserColumns = ['id', 'email', 'username', 'role', 'created_at'] as const
export type PublicUser = Pick<User, (typeof publicUserColumns)[number]>

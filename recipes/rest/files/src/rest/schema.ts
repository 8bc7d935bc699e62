import type { ColumnType, Generated } from 'kysely'

export interface PostsTable {
  id: Generated<string>
  author_id: string
  title: string
  body: string
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export interface CommentsTable {
  id: Generated<string>
  post_id: string
  author_id: string
  body: string
  created_at: ColumnType<Date, never, never>
}

declare module '../db/schema.js' {
  interface Database {
    posts: PostsTable
    comments: CommentsTable
  }
}

import { randomBytes } from 'node:crypto'

/** Auth settings for tests: a real 48-byte secret, cookies without Secure (tests talk http). */
export const authTestEnv = {
  JWT_SECRET: randomBytes(48).toString('base64'),
  JWT_ISSUER: 'test-issuer',
  JWT_AUDIENCE: 'test-audience',
  AUTH_COOKIE_SECURE: 'false',
}

export interface Session {
  user: { id: string; email: string; username: string; role: string }
  accessToken: string
  /** The refresh cookie as a Cookie header value: `refresh_token=…`. */
  refreshCookie: string
  password: string
}

let counter = 0

/** `refresh_token=…` from a response's Set-Cookie, or undefined. */
export function refreshCookieOf(response: Response): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('refresh_token='))
  const pair = header?.split(';')[0]
  return pair && pair !== 'refresh_token=' ? pair : undefined
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

/** Registers a fresh user and logs in. */
export async function signUp(
  baseUrl: string,
  overrides: Partial<{ email: string; password: string }> = {},
): Promise<Session> {
  counter++
  const unique = `${Date.now().toString(36)}${counter}${randomBytes(2).toString('hex')}`
  const email = overrides.email ?? `user${unique}@example.com`
  const password = overrides.password ?? `pw-${unique}-long-enough`
  const registered = await post(`${baseUrl}/api/auth/register`, {
    email,
    username: `u${unique}`,
    password,
  })
  if (registered.status !== 201)
    throw new Error(`register: ${registered.status} ${await registered.text()}`)
  const user = (await registered.json()) as Session['user']
  const login = await post(`${baseUrl}/api/auth/login`, { email, password })
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`)
  const { accessToken } = (await login.json()) as { accessToken: string }
  const refreshCookie = refreshCookieOf(login)
  if (!refreshCookie) throw new Error('login set no refresh cookie')
  return { user, accessToken, refreshCookie, password }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

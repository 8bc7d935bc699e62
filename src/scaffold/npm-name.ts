/** Why `name` cannot be an npm package name, or undefined when it can. */
export function npmNameProblem(name: string): string | undefined {
  if (!name) return 'it is empty'
  if (name.length > 214) return 'it is longer than 214 characters'
  if (name !== name.toLowerCase()) return 'it has capital letters'
  if (name.trim() !== name) return 'it has leading or trailing spaces'
  if (/^[._]/.test(name)) return 'it starts with a dot or an underscore'
  if (!/^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name)) {
    return 'use lowercase letters, digits, "-", "." and "_" (and an optional @scope/)'
  }
  if (['node_modules', 'favicon.ico'].includes(name)) return 'it is a reserved name'
  return undefined
}

/** A package name from a folder name: "My API" → "my-api". */
export function toPackageName(folder: string): string {
  return folder
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
}

import { type Command, Option } from 'commander'
import type { ActionFactory } from '../index.js'

export function registerNew(program: Command, action: ActionFactory): void {
  program
    .command('new')
    .description('scaffold a complete service (every recipe unless told otherwise)')
    .argument('[dir]', 'where to create it (default: ./my-api, or asked)')
    .option(
      '--recipes <list>',
      'only these recipes (comma-separated; what they require comes along)',
    )
    .option('--without <list>', 'every recipe but these (comma-separated)')
    .option('--name <pkg>', 'package name (default: the folder name)')
    .addOption(new Option('--pm <manager>', 'package manager').choices(['npm', 'pnpm', 'yarn']))
    .option('--no-install', 'do not install dependencies')
    .option('--no-git', 'do not create a git repository')
    .option('--dry-run', 'print the plan, write nothing')
    .option('--force', 'write into a non-empty folder (existing files are never overwritten)')
    .action(action(() => import('./run.js')))
}

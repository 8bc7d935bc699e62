import { accountBalances } from '../accounts/balances.js'
import type { Projection } from './projection-runner.js'

/** Every projection of the event log: kept up to date by the events module, rebuilt by `npm run projections:rebuild`. */
export const projections: readonly Projection[] = [accountBalances]

import { AppError, ConflictError } from '../lib/errors.js'

/**
 * The Account aggregate of the ledger, as pure functions: its events, how each changes the state
 * (`evolve`), and what a command may record given the state (`decide`). No I/O: the service
 * loads, decides and appends; the read model's projection folds the same events.
 */

export const ACCOUNT_STREAM = 'account'

/** Amounts are integer cents; one movement is at most ten million units. */
export const MAX_AMOUNT = 1_000_000_000
/** Balances stay exact in JSON and JavaScript (2^53 − 1 cents). */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER

export type AccountEvent =
  | { type: 'AccountOpened'; data: { ownerId: string } }
  | { type: 'FundsDeposited'; data: { amount: number } }
  | { type: 'FundsWithdrawn'; data: { amount: number } }

export type AccountEventType = AccountEvent['type']

export interface Account {
  id: string
  ownerId: string
  /** Integer cents, never negative. */
  balance: number
  /** The version of the last event applied: the number of events in the stream. */
  version: number
}

/** A snapshot's state is an Account; bump this when its shape changes (old snapshots are skipped). */
export const ACCOUNT_SNAPSHOT_SCHEMA = 1

export type AccountCommand =
  | { type: 'deposit'; amount: number }
  | { type: 'withdraw'; amount: number }

/** The state after `event` (the event at `version` of stream `id`). */
export function evolve(
  state: Account | undefined,
  event: AccountEvent & { streamId: string; version: number },
): Account {
  if (event.type === 'AccountOpened') {
    return { id: event.streamId, ownerId: event.data.ownerId, balance: 0, version: event.version }
  }
  if (!state) throw new Error(`account ${event.streamId}: ${event.type} before AccountOpened`)
  const delta = event.type === 'FundsDeposited' ? event.data.amount : -event.data.amount
  return { ...state, balance: state.balance + delta, version: event.version }
}

export class InsufficientFundsError extends ConflictError {
  constructor(balance: number, amount: number) {
    super(`The balance (${balance}) does not cover a withdrawal of ${amount}`, {
      code: 'INSUFFICIENT_FUNDS',
      details: { balance, amount },
    })
  }
}

/** The event a command records, or why it may not (409: the state does not allow it). */
export function decide(state: Account, command: AccountCommand): AccountEvent {
  if (!Number.isSafeInteger(command.amount) || command.amount <= 0 || command.amount > MAX_AMOUNT) {
    throw new AppError(422, `amount must be a whole number of cents from 1 to ${MAX_AMOUNT}`, {
      code: 'VALIDATION_FAILED',
    })
  }
  if (command.type === 'withdraw') {
    if (command.amount > state.balance)
      throw new InsufficientFundsError(state.balance, command.amount)
    return { type: 'FundsWithdrawn', data: { amount: command.amount } }
  }
  if (state.balance + command.amount > MAX_BALANCE) {
    throw new ConflictError('This deposit would take the balance past its limit', {
      code: 'BALANCE_LIMIT',
    })
  }
  return { type: 'FundsDeposited', data: { amount: command.amount } }
}

import {
  ErrorCode,
  type EvaluationContext,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
  StandardResolutionReasons,
  TypeMismatchError,
} from '@openfeature/server-sdk'
import type { EvaluationReason } from './evaluate.js'
import type { FlagStore } from './store.js'

/** How each of our reasons reads in OpenFeature's vocabulary. */
const reasons: Record<Exclude<EvaluationReason, 'unknown'>, string> = {
  deny: StandardResolutionReasons.TARGETING_MATCH,
  allow: StandardResolutionReasons.TARGETING_MATCH,
  percentage: StandardResolutionReasons.SPLIT,
  off: StandardResolutionReasons.DISABLED,
}

/**
 * An OpenFeature server provider over the flags in memory, so code written against the
 * OpenFeature SDK works unchanged: the evaluation context's `targetingKey` is the user id.
 * Flags here are booleans; asking for a string, number or object is a type mismatch (the SDK
 * returns the default). An unknown flag returns the default with FLAG_NOT_FOUND. Every refresh
 * that changes flags emits ConfigurationChanged with their names.
 *
 * @example
 * await OpenFeature.getClient().getBooleanValue('new-checkout', false, { targetingKey: user.id })
 */
export class FlagsProvider implements Provider {
  readonly metadata = { name: 'backendkit-flags' } as const
  readonly runsOn = 'server' as const
  readonly events = new OpenFeatureEventEmitter()
  readonly #stopListening: () => void

  constructor(private readonly flags: FlagStore) {
    this.#stopListening = flags.onChange((flagsChanged) =>
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }),
    )
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const { enabled, reason } = this.flags.evaluate(flagKey, context.targetingKey)
    if (reason === 'unknown') {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `no flag named "${flagKey}"`,
      }
    }
    return {
      value: enabled,
      variant: enabled ? 'on' : 'off',
      reason: reasons[reason],
      flagMetadata: { reason },
    }
  }

  async resolveStringEvaluation(): Promise<ResolutionDetails<string>> {
    throw new TypeMismatchError('backendkit flags are booleans')
  }

  async resolveNumberEvaluation(): Promise<ResolutionDetails<number>> {
    throw new TypeMismatchError('backendkit flags are booleans')
  }

  async resolveObjectEvaluation<T extends JsonValue>(): Promise<ResolutionDetails<T>> {
    throw new TypeMismatchError('backendkit flags are booleans')
  }

  async onClose(): Promise<void> {
    this.#stopListening()
  }
}

export type { ControlBus, ControlEvent, ControlEventHandler } from './control-events';
export { InProcessControlBus, sharedInProcessControlBus } from './in-process-control-bus';
export { RedisControlBus, ControlBusUnavailableError, DEFAULT_CONTROL_CHANNEL } from './redis-control-bus';
export type { RedisControlBusOptions, ControlBusStatus } from './redis-control-bus';
export { SignedEnvelopeCodec, DEFAULT_REPLAY_WINDOW_MS, MIN_CLUSTER_SECRET_BYTES } from './signed-envelope';
export { SignedPubSub } from './signed-pub-sub';
export type { SignedPubSubOptions, SignedPubSubStatus } from './signed-pub-sub';
export type { SignedEnvelopeOptions, DecodedEnvelope, EnvelopeRejection } from './signed-envelope';
export { ClusterKeys, DEFAULT_REDIS_PREFIX } from './cluster-keys';
export {
  RedisSessionDirectory,
  encodeSessionEntry,
  decodeSessionEntry,
  registerInProcessSessionDirectory,
  sharedInProcessSessionDirectory,
} from './session-directory';
export type { SessionDirectory, SessionEntry } from './session-directory';

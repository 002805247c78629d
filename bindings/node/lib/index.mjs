// ESM entry point: the same objects as the CommonJS one (one addon instance).
import cjs from './index.cjs';

export const {
  Client, ChatStream, CallStream, CallResponse, LiterLlmError, Status, version, versionNumber, registerProvider, unregisterProvider, providers,
  InvalidArgumentError, AuthenticationError, RateLimitedError, BadRequestError, ContextWindowExceededError,
  ContentPolicyError, NotFoundError, ServerError, ServiceUnavailableError, TimeoutError, StreamingError,
  EndpointNotSupportedError, InvalidHeaderError, SerializationError, BudgetExceededError, HookRejectedError,
  NetworkError, CancelledError, InternalError, LimitExceededError, OutOfMemoryError,
} = cjs;
export default cjs;

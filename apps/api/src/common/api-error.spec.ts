import { ApiError, ApiErrorCode, DATABASE_RETRY_AFTER_SECONDS, httpStatusOf, retryAfterOf } from './api-error';

describe('ApiErrorCode', () => {
  it('maps every code to an HTTP status and a default message', () => {
    for (const code of Object.values(ApiErrorCode)) {
      expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
      expect(new ApiError(code).message).not.toBe('');
    }
  });

  it('keeps client mistakes in the 4xx range', () => {
    const serverSide = Object.values(ApiErrorCode).filter((code) => httpStatusOf(code) >= 500);
    expect(serverSide.sort()).toEqual([ApiErrorCode.DATABASE_UNAVAILABLE, ApiErrorCode.INTERNAL, ApiErrorCode.NOT_READY]);
  });

  it('tells the client when to retry a database outage, and only that', () => {
    expect(retryAfterOf(ApiErrorCode.DATABASE_UNAVAILABLE)).toBe(DATABASE_RETRY_AFTER_SECONDS);
    expect(Object.values(ApiErrorCode).filter((code) => retryAfterOf(code) !== undefined)).toEqual([ApiErrorCode.DATABASE_UNAVAILABLE]);
  });
});

import { ApiError, ApiErrorCode, httpStatusOf } from './api-error';

describe('ApiErrorCode', () => {
  it('maps every code to an HTTP status and a default message', () => {
    for (const code of Object.values(ApiErrorCode)) {
      expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
      expect(new ApiError(code).message).not.toBe('');
    }
  });

  it('keeps client mistakes in the 4xx range', () => {
    const serverSide = Object.values(ApiErrorCode).filter((code) => httpStatusOf(code) >= 500);
    expect(serverSide.sort()).toEqual([ApiErrorCode.INTERNAL, ApiErrorCode.NOT_READY]);
  });
});

/**
 * The error table of the vendor's page (shared api/README.md), written out by hand so that tests check the
 * code's own table against the documentation instead of trusting it.
 */
export const DOCUMENTED_HTTP_STATUS: Readonly<Record<string, number>> = {
  ENCODING_ERROR: 400,
  DOWNLOAD_TIMEOUT: 400,
  DOWNLOAD_ERROR: 400,
  WRONG_LIVENESS_DATA: 400,
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  KEY_EXPIRED: 401,
  RATE_LIMIT_EXCEEDED: 403,
  NO_PERMISSION: 403,
  OUT_OF_QUOTA: 403,
  NOT_FOUND: 404,
  INTERNAL_ERROR: 500,
};

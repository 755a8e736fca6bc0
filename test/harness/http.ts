/** A small HTTP client for tests (the test kit's): no keep-alive pool, no retries, bytes as they come. */
export { rawRequest, Reply, request, RequestOptions } from 'ngx-node/testing';

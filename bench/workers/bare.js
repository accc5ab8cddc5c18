/**
 * Baseline (a): the cheapest possible Worker. Answers every request 204 without
 * reading the body, so it measures the runtime and the HTTP path and nothing else.
 */
export default {
  fetch() {
    return new Response(null, { status: 204 });
  },
};
